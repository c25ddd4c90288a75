/* Keep a process's listening sockets on one loopback address.
 *
 * Loaded with LD_PRELOAD into the Ray node processes of the embedded stack. Ray's gRPC servers and
 * metrics exporters bind the wildcard address (0.0.0.0 / [::]); with this library a wildcard bind is
 * turned into a bind to $ICOP_BIND_IP (the node's loopback alias, e.g. 127.0.0.2), so nothing of the
 * stack listens off loopback. Binds to a specific address are left alone.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static bind_fn real_bind = NULL;
    if (!real_bind) real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
    const char *ip = getenv("ICOP_BIND_IP");
    if (!ip || !addr) return real_bind(fd, addr, len);
    if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in a;
        memcpy(&a, addr, sizeof a);
        if (a.sin_addr.s_addr == htonl(INADDR_ANY) && inet_pton(AF_INET, ip, &a.sin_addr) == 1)
            return real_bind(fd, (const struct sockaddr *)&a, sizeof a);
    } else if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 a;
        memcpy(&a, addr, sizeof a);
        if (IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr)) {
            char mapped[64];
            snprintf(mapped, sizeof mapped, "::ffff:%s", ip);
            if (inet_pton(AF_INET6, mapped, &a.sin6_addr) == 1) {
                int off = 0; /* a v4-mapped address needs a dual-stack socket */
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
                return real_bind(fd, (const struct sockaddr *)&a, sizeof a);
            }
        }
    }
    return real_bind(fd, addr, len);
}

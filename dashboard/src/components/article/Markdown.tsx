import { createElement } from "react";
import ReactMarkdown, { defaultUrlTransform, type Components, type UrlTransform } from "react-markdown";
import remarkGfm from "remark-gfm";
import type { ArticleImage } from "@/lib/api/types";

/** Markdown without its YAML front matter (the SEO block the article file starts with). */
export function stripFrontMatter(md: string): string {
  return md.replace(/^\uFEFF?---\r?\n[\s\S]*?\r?\n---\r?\n/, "");
}

/**
 * Image sources stay as written (the img component below maps them to the proxy or drops them, so
 * they never reach the page); link URLs get react-markdown's safe-protocol filter.
 */
const urlTransform: UrlTransform = (url, key, node) =>
  key === "src" && node.tagName === "img" ? url : defaultUrlTransform(url);

/**
 * An article's Markdown as HTML. Raw HTML in the Markdown is not rendered (react-markdown's default);
 * images are served through the dashboard's image proxy by position, and any other image is left out
 * (nothing is loaded from remote hosts).
 */
export function Markdown({
  markdown,
  articleId,
  images = [],
  imageLabel,
  headingOffset = 1,
  lang,
}: {
  markdown: string;
  articleId: string;
  images?: ArticleImage[];
  imageLabel: string;
  /** Levels to shift the Markdown's headings by, so they sit under the page's own (an h1 never repeats). */
  headingOffset?: number;
  /** The article's language (its text is content, not the UI's: marked so). */
  lang?: string;
}) {
  const byUrl = new Map(images.map((i) => [i.url, i]));
  const heading = (level: number) => {
    function Heading({ children }: { children?: React.ReactNode }) {
      return createElement(`h${Math.min(6, level + headingOffset)}`, { className: `md-h${level}` }, children);
    }
    return Heading;
  };
  const components: Components = {
    h1: heading(1),
    h2: heading(2),
    h3: heading(3),
    h4: heading(4),
    h5: heading(5),
    h6: heading(6),
    img: ({ src, alt }) => {
      const img = typeof src === "string" ? byUrl.get(src) : undefined;
      if (!img) return alt ? <span className="text-sm text-slate-600">[{imageLabel}: {alt}]</span> : null;
      return (
        // eslint-disable-next-line @next/next/no-img-element
        <img
          src={`/api/articles/${articleId}/images/${img.position}`}
          alt={alt ?? ""}
          width={img.width}
          height={img.height}
          loading="lazy"
        />
      );
    },
    // a code block scrolls sideways (overflow-x-auto in globals.css): focusable so keyboard users can
    // scroll it too (axe: scrollable-region-focusable); its text is its content.
    pre: ({ children }) => <pre tabIndex={0}>{children}</pre>,
    a: ({ href, children }) => (
      <a href={href} rel="noopener noreferrer nofollow" target="_blank">
        {children}
      </a>
    ),
  };
  return (
    <div className="prose-article" lang={lang}>
      <ReactMarkdown remarkPlugins={[remarkGfm]} components={components} urlTransform={urlTransform}>
        {stripFrontMatter(markdown)}
      </ReactMarkdown>
    </div>
  );
}

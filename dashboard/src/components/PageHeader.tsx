/** A page's h1 with optional actions on the right (stacked on a phone). */
export function PageHeader({
  title,
  titleLang,
  children,
}: {
  title: React.ReactNode;
  /** The title's language when it is content (an article's), not the UI's. */
  titleLang?: string;
  children?: React.ReactNode;
}) {
  return (
    <div className="mb-6 flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
      <h1 className="break-words" lang={titleLang}>
        {title}
      </h1>
      {children ? <div className="flex flex-wrap gap-2">{children}</div> : null}
    </div>
  );
}

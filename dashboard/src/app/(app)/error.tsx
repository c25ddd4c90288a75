"use client";

/** Shown when a page fails to load (the gateway down, an unexpected error). Bilingual: no dictionary here. */
export default function ErrorPage({ reset }: { error: Error; reset: () => void }) {
  return (
    <div role="alert" className="py-10">
      <h1>Something went wrong · 문제가 발생했습니다</h1>
      <p className="mt-3 text-slate-700">
        The page could not be loaded. Try again; if it keeps failing, check that the API is running.
      </p>
      <p className="mt-1 text-slate-700" lang="ko">
        페이지를 불러오지 못했습니다. 다시 시도하고, 계속 실패하면 API가 실행 중인지 확인하세요.
      </p>
      <button
        type="button"
        onClick={reset}
        className="mt-6 rounded-md bg-blue-700 px-4 py-2 text-sm font-medium text-white hover:bg-blue-800"
      >
        Try again · 다시 시도
      </button>
    </div>
  );
}

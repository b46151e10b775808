// The page for a path the UI does not know.
import { useEffect } from "react";
import { Link, useLocation } from "react-router";

export function NotFoundPage() {
  const { pathname } = useLocation();
  useEffect(() => {
    document.title = "Page not found · GROK";
  }, []);
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{pathname.length > 200 ? `${pathname.slice(0, 200)}…` : pathname}</code>.
      </p>
      <p>
        <Link to="/runs">Runs</Link>
      </p>
    </>
  );
}

// The frame of every signed-in page: the main navigation, the live-updates indicator, sign-out,
// and the page. At phone width the navigation wraps onto its own row.
import { NavLink, Outlet } from "react-router";
import { useAuth } from "../api/auth";
import { LiveIndicator } from "../live";

export function Layout() {
  const { signOut } = useAuth();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">GROK</span>
        <nav aria-label="Main">
          <NavLink to="/runs" end>
            Runs
          </NavLink>
          <NavLink to="/runs/new">New run</NavLink>
          <NavLink to="/queue">Queue</NavLink>
          <NavLink to="/tools">Tools</NavLink>
        </nav>
        <div className="header-tools">
          <LiveIndicator />
          <button type="button" className="link-button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main className="app-main" id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

// The frame of every signed-in page: the main navigation, sign-out, and the page.
import { NavLink, Outlet } from "react-router";
import { useAuth } from "../api/auth";

export function Layout() {
  const { signOut } = useAuth();
  return (
    <div className="app">
      <header className="app-header">
        <span className="brand">GROK</span>
        <nav aria-label="Main">
          <NavLink to="/runs" end>Runs</NavLink>
          <NavLink to="/runs/new">New run</NavLink>
          <NavLink to="/queue">Queue</NavLink>
          <NavLink to="/tools">Tools</NavLink>
        </nav>
        <button type="button" className="link-button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main className="app-main">
        <Outlet />
      </main>
    </div>
  );
}

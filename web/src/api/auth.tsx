// The signed-in API key: kept in localStorage so it is asked for once, and dropped (with a
// reason shown on the sign-in page) when the server refuses it.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { ApiClient } from "./client";

const storageKey = "grok.apiKey";

export interface Auth {
  client: ApiClient | null;
  signIn: (key: string) => void;
  // Forgets the key; `reason` is shown on the sign-in page ("your key was refused").
  signOut: (reason?: string) => void;
  signOutReason: string | null;
}

const AuthContext = createContext<Auth | null>(null);

export function readStoredKey(): string | null {
  try {
    return localStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

export function AuthProvider({ children, baseUrl }: { children: ReactNode; baseUrl?: string }) {
  const [key, setKey] = useState<string | null>(readStoredKey);
  const [signOutReason, setReason] = useState<string | null>(null);

  const signIn = useCallback((k: string) => {
    try {
      localStorage.setItem(storageKey, k);
    } catch {
      // Private mode: the key lives for this tab only.
    }
    setReason(null);
    setKey(k);
  }, []);
  const signOut = useCallback((reason?: string) => {
    try {
      localStorage.removeItem(storageKey);
    } catch {
      // nothing stored
    }
    setReason(reason ?? null);
    setKey(null);
  }, []);

  const client = useMemo(() => (key ? new ApiClient({ key, ...(baseUrl !== undefined ? { baseUrl } : {}) }) : null), [key, baseUrl]);
  const value = useMemo(() => ({ client, signIn, signOut, signOutReason }), [client, signIn, signOut, signOutReason]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}

// The client of a page that is only reachable when signed in.
export function useClient(): ApiClient {
  const { client } = useAuth();
  if (!client) throw new Error("useClient while signed out");
  return client;
}

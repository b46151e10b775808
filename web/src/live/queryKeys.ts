// React Query keys shared by the pages and the live layer: every runs-list query key starts
// with `runsQueryKey`, so the live layer can invalidate all of them at once.
export const runsQueryKey = ["runs"] as const;

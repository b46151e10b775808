// The live-update layer's public face: hooks and components the pages import. The other
// files in src/live/ are its internals (tests import them directly).
export { runsQueryKey } from "./queryKeys";
export { useRunEvents, type RunEventsState } from "./useRunEvents";
export { useLiveRunList, type LiveRunList } from "./useLiveRunList";
export { LiveIndicator } from "./LiveIndicator";
export { useLiveStatus, type LiveStatus, type LiveLabel } from "./liveStatus";
export { transportStorageKey, pollIntervalMs, type Transport } from "./transport";
export type { TimelineEntry } from "./eventLog";
export { buildRunView, type RunView, type StepView, type StepState } from "./runState";

// Scripts for the fake model server. The planner and solver prompts (prompts/*.mustache)
// are one user message each that starts "You are the planner/solver" and holds the task,
// so a rule can match on a word of the task.

export const calculatorTask = "What is 6 * 7 + 1?";
export const answer = "The answer is 43.";
// A task with this word gets an unusable plan twice (the first answer and the repair), so
// the run fails with plan_invalid and a reason from the server.
export const failWord = "FAIL-ME";

const plan = {
  steps: [
    { id: "E1", tool: "calculator", args: { expression: "6 * 7" } },
    { id: "E2", tool: "calculator", args: { expression: "#E1 + 1" } },
  ],
};

// `chunkDelayMs` slows the solver's stream (4 characters a chunk) so that the answer is
// seen part-written: the engine stores llm.delta events at most every 50 ms.
export function calculatorScript(chunkDelayMs = 250): unknown {
  return {
    rules: [
      { match: { contains: failWord }, reply: { content: "I would rather not make a plan.", usage: true } },
      // The repair prompt (prompts/repair.mustache) is the last message of the second call.
      { match: { contains: "That plan cannot be used" }, reply: { content: "Still no plan, sorry.", usage: true } },
      { match: { contains: "You are the planner" }, reply: { json: plan, usage: true } },
      {
        match: { contains: "You are the solver" },
        reply: { content: answer, usage: true, chunk_chars: 4, chunk_delay_ms: chunkDelayMs },
      },
    ],
    default: { content: "unexpected request" },
  };
}

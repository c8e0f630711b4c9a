/**
 * The allowance added to every timing bound that a test measures from outside a process (spawn, signal
 * delivery, log lines through a pipe, a loaded CI machine of two cores). The bound itself is the figure
 * the docs promise; tests print the figure they measured beside it.
 */
export const timingAllowanceMs = 1000;

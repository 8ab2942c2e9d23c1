/** Counts by class (`connect.refused`, `close.1012`, ...): the sum of one class and its subclasses. */
export function countOfClass(byClass: Readonly<Record<string, number>>, cls: string): number {
  return Object.entries(byClass)
    .filter(([c]) => c === cls || c.startsWith(`${cls}.`))
    .reduce((a, [, n]) => a + n, 0);
}

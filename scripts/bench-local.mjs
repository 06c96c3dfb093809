// Local-target figures for `npm run bench`: filled in with the local runtime.
export async function localBenchmarks() {
  return [];
}

// Histograms drawn from counts the kernel computed: heights as densities (count / total / bin
// width, so a pdf can be drawn over them, as widgets/_svg.py's histogram does), and merging
// neighbouring bins when a drawing has fewer pixels than bins.

/** Density heights of bins between edges (edges.length == counts.length + 1). */
export function densities(edges: number[], counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return counts.map((c, i) => {
    const width = edges[i + 1] - edges[i];
    return width > 0 ? c / total / width : 0;
  });
}

/** Merge groups of `factor` neighbouring bins (the last group may be smaller). */
export function rebin(edges: number[], counts: number[], factor: number):
    { edges: number[]; counts: number[] } {
  if (factor <= 1) return { edges: [...edges], counts: [...counts] };
  const merged: number[] = [], mergedEdges: number[] = [edges[0]];
  for (let i = 0; i < counts.length; i += factor) {
    const group = counts.slice(i, i + factor);
    merged.push(group.reduce((a, b) => a + b, 0));
    mergedEdges.push(edges[Math.min(i + factor, counts.length)]);
  }
  return { edges: mergedEdges, counts: merged };
}

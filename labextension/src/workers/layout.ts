// The graph layout off the page's thread: big graphs take dagre a second or more (about 1.2 s
// for 1,300 nodes), which would freeze the notebook meanwhile. GraphView posts
// {key, boxes, edges} and gets {key, layout} back.
import { layoutGraph } from '../logic/graph_layout';

const scope = self as unknown as {
  onmessage: (event: MessageEvent) => void;
  postMessage: (message: unknown) => void;
};

scope.onmessage = (event: MessageEvent) => {
  const { key, boxes, edges } = event.data;
  scope.postMessage({ key, layout: layoutGraph(boxes, edges) });
};

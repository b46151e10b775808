// The plan as a read-only graph (React Flow): planner → evidence steps → solver, each node
// coloured and labelled with its state. A visually hidden list says the same in text.
import { Handle, Position, ReactFlow, Controls, type Node, type NodeHandle, type NodeProps, type Edge } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useLayoutEffect, useMemo, useRef, useState, type RefObject } from "react";
import type { RunView } from "../live/runState";
import { layoutPlan, nodeHeight, nodeWidth, planGraph, type PlanDirection, type PlanEdge, type PlanNode, type PlanNodeData } from "./planGraphModel";

type StepFlowNode = Node<PlanNodeData, "step">;

function StepNode({ data, targetPosition, sourcePosition }: NodeProps<StepFlowNode>) {
  return (
    <div className={`plan-node state-${data.state}`} title={data.label}>
      <Handle type="target" position={targetPosition ?? Position.Left} isConnectable={false} />
      <span className="plan-node-title">
        <strong>{data.title}</strong>
        {data.tool ? <span className="plan-node-tool"> {data.tool}</span> : null}
      </span>
      <span className="plan-node-state">
        {data.state}
        {data.attempts > 1 ? ` · attempt ${data.attempts}` : ""}
      </span>
      <Handle type="source" position={sourcePosition ?? Position.Right} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { step: StepNode };
// The width of an element, followed as it resizes (0 until measured, and in jsdom).
function useWidth(ref: RefObject<HTMLDivElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver !== "function") return;
    setWidth(el.clientWidth);
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

const maxZoom = 1.25;
const fitPadding = 0.15;

// Where edges attach: the middle of the left and right sides (or top and bottom).
export function handlesFor(direction: PlanDirection): NodeHandle[] {
  return direction === "LR"
    ? [
        { type: "target", position: Position.Left, x: 0, y: nodeHeight / 2, width: 1, height: 1 },
        { type: "source", position: Position.Right, x: nodeWidth - 1, y: nodeHeight / 2, width: 1, height: 1 },
      ]
    : [
        { type: "target", position: Position.Top, x: nodeWidth / 2, y: 0, width: 1, height: 1 },
        { type: "source", position: Position.Bottom, x: nodeWidth / 2, y: nodeHeight - 1, width: 1, height: 1 },
      ];
}

type Positioned = { position: { x: number; y: number } };
const maxHeight = 480;
const minHeight = 180;
const controlsRoom = 48;

// The zoom at which a laid-out graph fits a canvas `width` wide and at most maxHeight tall.
function fitZoom(positions: Positioned[], width: number): { zoom: number; extentH: number } {
  const xs = positions.map((p) => p.position.x);
  const ys = positions.map((p) => p.position.y);
  const extentW = Math.max(...xs) - Math.min(...xs) + nodeWidth;
  const extentH = Math.max(...ys) - Math.min(...ys) + nodeHeight;
  const pad = 1 + 2 * fitPadding;
  const zoom = Math.min(maxZoom, width / (extentW * pad), (maxHeight - controlsRoom) / (extentH * pad));
  return { zoom, extentH };
}

// A canvas as tall as the laid-out graph needs at the zoom that fits its width, within
// bounds: a short chain of steps gets a short box instead of a large empty one.
export function canvasHeight(positions: Positioned[], width: number): number {
  if (width <= 0 || positions.length === 0) return 320;
  const { zoom, extentH } = fitZoom(positions, width);
  const needed = extentH * zoom * (1 + 2 * fitPadding) + controlsRoom;
  return Math.round(Math.min(maxHeight, Math.max(minHeight, needed)));
}

// Left to right unless top to bottom shows the nodes clearly larger in this canvas: a long
// chain of steps reads better downwards in a narrow panel, a wide fan-out sideways.
export function chooseDirection(nodes: PlanNode[], edges: PlanEdge[], width: number): PlanDirection {
  if (width <= 0 || nodes.length === 0) return "LR";
  const lr = fitZoom(layoutPlan(nodes, edges, "LR"), width).zoom;
  const tb = fitZoom(layoutPlan(nodes, edges, "TB"), width).zoom;
  return tb > lr * 1.15 ? "TB" : "LR";
}

export interface PlanGraphProps {
  view: RunView;
}

export function PlanGraph({ view }: PlanGraphProps) {
  const canvas = useRef<HTMLDivElement>(null);
  const width = useWidth(canvas);
  const { nodes, edges } = useMemo(() => planGraph(view), [view]);
  const ids = `${nodes.map((n) => n.id).join(",")}|${edges.map((e) => e.id).join(",")}`;
  const widthBucket = Math.round(width / 40) * 40; // re-choose only on real resizes
  const direction = useMemo(() => chooseDirection(nodes, edges, widthBucket), [ids, widthBucket]);
  // Layout depends on the shape only, so states changing do not move nodes.
  const shape = `${direction}|${ids}`;
  const positions = useMemo(() => layoutPlan(nodes, edges, direction), [shape]);
  const flowNodes: StepFlowNode[] = useMemo(
    () =>
      nodes.map((n) => ({
        id: n.id,
        type: "step" as const,
        data: n.data,
        position: positions.find((p) => p.id === n.id)?.position ?? n.position,
        // Known size and handle points: React Flow then draws edges without measuring the
        // nodes first, which it sometimes never finishes (xyflow issue #4888: no edges).
        width: nodeWidth,
        height: nodeHeight,
        handles: handlesFor(direction),
        sourcePosition: direction === "LR" ? Position.Right : Position.Bottom,
        targetPosition: direction === "LR" ? Position.Left : Position.Top,
        ariaLabel: n.data.label,
        draggable: false,
        connectable: false,
        selectable: false,
      })),
    [nodes, positions, direction],
  );
  const flowEdges: Edge[] = useMemo(
    () => edges.map((e) => ({ id: e.id, source: e.source, target: e.target, animated: e.animated })),
    [edges],
  );
  const deps = (key: string) => edges.filter((e) => e.target === key).map((e) => e.source);
  const height = canvasHeight(positions, width);

  return (
    <div className="plan-graph">
      <div className="plan-graph-canvas" ref={canvas} style={{ height }}>
        <ReactFlow
          key={`${shape}|${height}`}
          aria-label="Plan graph"
          nodes={flowNodes}
          edges={flowEdges}
          nodeTypes={nodeTypes}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          preventScrolling={false}
          zoomOnScroll={false}
          fitView
          fitViewOptions={{ padding: fitPadding }}
          minZoom={0.2}
          maxZoom={maxZoom}
        >
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      <ol className="visually-hidden" aria-label="Plan steps">
        {nodes.map((n) => {
          const from = deps(n.id);
          return (
            <li key={n.id}>
              {n.data.label}
              {from.length ? ` — after ${from.join(", ")}` : ""}
            </li>
          );
        })}
      </ol>
    </div>
  );
}

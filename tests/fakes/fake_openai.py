#!/usr/bin/env python3
"""A scripted fake OpenAI-compatible chat-completions server for GROK's tests.

It listens on 127.0.0.1 (port 0 picks a free one), prints "listening on 127.0.0.1:PORT"
and answers POST .../chat/completions from a script of rules. Streaming output follows the
OpenAI wire format: HTTP/1.1 chunked `text/event-stream`, one `data: {chat.completion.chunk}`
event per delta, the finish chunk, the usage chunk when `stream_options.include_usage` is
set, then `data: [DONE]`.

Script (JSON):
  {"rules": [RULE, ...], "default": REPLY}
  RULE  = {"match": {"model": s, "role": s, "contains": s}, "times": n,
           "reply": REPLY, "fault": FAULT, "fault_options": {...}}
          "match" fields are all optional; "role"/"contains" look at the last message.
          "times" limits how often the rule fires; then later rules are tried.
  REPLY = {"content": s | "json": obj, "tool_calls": [{"name": s, "arguments": s|obj}],
           "finish_reason": s, "usage": bool, "delay_ms": n, "chunk_chars": n,
           "chunk_delay_ms": n}
  FAULT = status | reset_mid_stream | no_done | truncated | invalid_json | html_200 |
          huge | trickle | hang | hang_mid_stream | error_in_stream | invalid_utf8
          (status takes fault_options {"status": 429, "retry_after": "1", "body": "..."};
           huge takes {"bytes": n}; trickle takes {"byte_delay_ms": n}; *_mid_stream take
           {"after_chunks": n})

Control endpoints: GET /_requests (every request received, as JSON), POST /_script
(replace the script), POST /_reset (forget requests and rule counters).
Standard library only.
"""
import argparse
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_LOCK = threading.Lock()
STATE = {"script": {"rules": [], "default": {"content": "ok"}}, "requests": [], "fired": {}}
STOP = threading.Event()
PLACEHOLDER = "__GROK_INVALID_UTF8__"


def dumps(obj):
    """Compact JSON, as OpenAI sends it."""
    return json.dumps(obj, separators=(",", ":"))


def last_message(messages):
    return messages[-1] if messages else {}


def matches(rule, req):
    m = rule.get("match", {})
    msgs = req.get("messages") or []
    last = last_message(msgs)
    if "model" in m and req.get("model") != m["model"]:
        return False
    if "role" in m and last.get("role") != m["role"]:
        return False
    if "contains" in m:
        content = last.get("content") or ""
        if not isinstance(content, str) or m["contains"] not in content:
            return False
    return True


def choose(req):
    """Returns (reply, fault, fault_options) for a request, counting rule firings."""
    with STATE_LOCK:
        script = STATE["script"]
        for index, rule in enumerate(script.get("rules", [])):
            if not matches(rule, req):
                continue
            fired = STATE["fired"].get(index, 0)
            if "times" in rule and fired >= rule["times"]:
                continue
            STATE["fired"][index] = fired + 1
            return rule.get("reply", script.get("default", {})), rule.get("fault"), rule.get("fault_options", {})
        return script.get("default", {"content": "ok"}), None, {}


def count_tokens(text):
    return max(1, len(str(text).split()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1.0"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    # --- helpers ---------------------------------------------------------------------
    def send_json(self, status, obj, extra_headers=None):
        body = dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_raw(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def write_chunk(self, data):
        if not data:
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def reset_connection(self):
        # SO_LINGER with a zero timeout makes close() send a TCP RST.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def hang(self):
        while not STOP.wait(0.05):
            pass
        self.close_connection = True

    # --- routes ----------------------------------------------------------------------
    def do_GET(self):
        if self.path == "/_requests":
            with STATE_LOCK:
                self.send_json(200, STATE["requests"])
        elif self.path.endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "no route " + self.path, "type": "not_found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path == "/_script":
            with STATE_LOCK:
                STATE["script"] = json.loads(raw)
                STATE["fired"] = {}
            self.send_json(200, {"ok": True})
            return
        if self.path == "/_reset":
            with STATE_LOCK:
                STATE["requests"] = []
                STATE["fired"] = {}
            self.send_json(200, {"ok": True})
            return
        if not self.path.endswith("/chat/completions"):
            self.send_json(404, {"error": {"message": "no route " + self.path, "type": "not_found"}})
            return
        try:
            req = json.loads(raw)
        except ValueError:
            self.send_json(400, {"error": {"message": "request body is not JSON", "type": "invalid_request_error"}})
            return
        with STATE_LOCK:
            STATE["requests"].append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": req})
        reply, fault, options = choose(req)
        self.answer(req, reply, fault, options)

    # --- answers ---------------------------------------------------------------------
    def answer(self, req, reply, fault, options):
        if reply.get("delay_ms"):
            time.sleep(reply["delay_ms"] / 1000.0)
        stream = bool(req.get("stream"))
        if fault == "status":
            status = int(options.get("status", 500))
            headers = {}
            if "retry_after" in options:
                headers["Retry-After"] = str(options["retry_after"])
            body = options.get("body")
            if body is not None:
                self.send_raw(status, "application/json", body.encode())
            else:
                self.send_json(status, {"error": {"message": options.get("message", "fake failure %d" % status),
                                                  "type": "fake_error"}}, headers)
            return
        if fault == "hang":
            self.hang()
            return
        if fault == "html_200":
            self.send_raw(200, "text/html; charset=utf-8", b"<html><body><h1>502 Bad Gateway</h1></body></html>")
            return
        if fault == "invalid_json" and not stream:
            self.send_raw(200, "application/json", b'{"id": "x", "choices": [ {"message": ')
            return
        if fault == "huge":
            size = int(options.get("bytes", 32 * 1024 * 1024))
            body = b'{"choices":[{"message":{"role":"assistant","content":"' + b"x" * size + b'"}}]}'
            self.send_raw(200, "application/json", body)
            return

        content = reply.get("content", "")
        if "json" in reply:
            content = dumps(reply["json"])
        content_bytes_override = None
        if fault == "invalid_utf8":
            content_bytes_override = b"bad \xff\xfe bytes"
            if not stream:
                content = PLACEHOLDER
        tool_calls = []
        for i, call in enumerate(reply.get("tool_calls", [])):
            args = call.get("arguments", {})
            tool_calls.append({"id": "call_%d" % (i + 1), "name": call["name"],
                               "arguments": args if isinstance(args, str) else dumps(args)})
        finish = reply.get("finish_reason", "tool_calls" if tool_calls else "stop")
        prompt_tokens = sum(count_tokens(m.get("content") or "") for m in req.get("messages") or [])
        completion_tokens = count_tokens(content) + len(tool_calls)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        with_usage = reply.get("usage", True)
        ident = "chatcmpl-fake%d" % int(time.time() * 1000)
        created = int(time.time())
        model = req.get("model", "fake")

        if not stream:
            message = {"role": "assistant", "content": content if not tool_calls else (content or None)}
            if tool_calls:
                message["tool_calls"] = [{"id": c["id"], "type": "function",
                                          "function": {"name": c["name"], "arguments": c["arguments"]}}
                                         for c in tool_calls]
            body = {"id": ident, "object": "chat.completion", "created": created, "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}]}
            if with_usage:
                body["usage"] = usage
            data = dumps(body).encode()
            if content_bytes_override is not None:
                data = data.replace(PLACEHOLDER.encode(), content_bytes_override, 1)
            self.send_raw(200, "application/json", data)
            return

        # Streaming.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        include_usage = with_usage and (req.get("stream_options") or {}).get("include_usage")

        def chunk(delta, finish_reason=None):
            c = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                 "system_fingerprint": "fp_fake",
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
            if include_usage:
                c["usage"] = None  # OpenAI sends "usage": null on every chunk but the last
            return c

        events = [chunk({"role": "assistant", "content": ""})]
        step = max(1, int(reply.get("chunk_chars", 4)))
        for i in range(0, len(content), step):
            events.append(chunk({"content": content[i:i + step]}))
        for index, call in enumerate(tool_calls):
            events.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                                 "function": {"name": call["name"], "arguments": ""}}]}))
            args = call["arguments"]
            for i in range(0, len(args), step):
                events.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": args[i:i + step]}}]}))
        events.append(chunk({}, finish))
        if include_usage:
            events.append({"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                           "system_fingerprint": "fp_fake", "choices": [], "usage": usage})
        payloads = [b"data: " + dumps(e).encode() + b"\n\n" for e in events]
        if content_bytes_override is not None:
            bad = dict(chunk({"content": "X"}))
            payloads.insert(1, b"data: " + dumps(bad).encode().replace(b'"X"', b'"' + content_bytes_override + b'"')
                            + b"\n\n")
        if fault == "error_in_stream":
            after = int(options.get("after_chunks", 1))
            payloads = payloads[:after] + [b'data: {"error": {"message": "fake overload", "type": "server_error"}}\n\n']
        done = b"data: [DONE]\n\n"
        delay = reply.get("chunk_delay_ms", 0) / 1000.0

        if fault == "invalid_json":
            payloads = payloads[:1] + [b"data: {not json at all\n\n"]
        if fault in ("reset_mid_stream", "hang_mid_stream"):
            after = int(options.get("after_chunks", 2))
            for p in payloads[:after]:
                self.write_chunk(p)
            if fault == "reset_mid_stream":
                self.reset_connection()
            else:
                self.hang()
            return
        if fault == "truncated":  # the server goes away before finishing; clean close
            finish_index = len(events) - (2 if include_usage else 1)
            for p in payloads[:min(int(options.get("after_chunks", 2)), finish_index)]:
                self.write_chunk(p)
            self.end_chunks()
            self.close_connection = True
            return
        if fault == "trickle":
            byte_delay = int(options.get("byte_delay_ms", 5)) / 1000.0
            for p in payloads + [done]:
                for i in range(len(p)):
                    self.write_chunk(p[i:i + 1])
                    time.sleep(byte_delay)
            self.end_chunks()
            return
        self.write_chunk(b": keep-alive\n\n")
        for p in payloads:
            self.write_chunk(p)
            if delay:
                time.sleep(delay)
        if fault != "no_done":
            self.write_chunk(done)
        self.end_chunks()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", help="path of a JSON script")
    args = parser.parse_args()
    if args.script:
        with open(args.script) as f:
            STATE["script"] = json.load(f)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        STOP.set()
        server.server_close()


if __name__ == "__main__":
    main()

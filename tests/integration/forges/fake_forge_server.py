#!/usr/bin/env python3
"""A small stateful fake of the pull-request comment APIs of GitHub and GitLab, for tests.

GitHub (written from docs.github.com "REST API endpoints for issue comments"; its requests and
answers are validated by Prism against GitHub's OpenAPI description in front of this server):
  GET   /repos/{owner}/{repo}/issues/{n}/comments?per_page=&page=   Link rel="next"/"last"
  POST  /repos/{owner}/{repo}/issues/{n}/comments                   201 + the comment
  PATCH /repos/{owner}/{repo}/issues/comments/{id}                  200 + the comment
GitLab (from docs.gitlab.com "Notes API", merge request notes):
  GET   /api/v4/projects/{id}/merge_requests/{iid}/notes?per_page=&page=  X-Next-Page, X-Page,
        X-Per-Page, X-Total, X-Total-Pages, Link
  POST  /api/v4/projects/{id}/merge_requests/{iid}/notes                  201
  PUT   /api/v4/projects/{id}/merge_requests/{iid}/notes/{note_id}        200
Auth: GitHub `Authorization: Bearer|token T`, GitLab `PRIVATE-TOKEN: T`; else 401.
An unknown repository or project is 404. --rate-limit N answers the first N writes with 429
(Retry-After: 1; GitHub also X-RateLimit-* headers). GET /_state (not part of either API)
returns the comments and the request log for the test to check.

  fake_forge_server.py --flavor github --token T --repository org/ops --port-file F
"""
import argparse
import datetime
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATE = {"comments": {}, "next_id": 1000, "log": [], "rate_limited": 0}
LOCK = threading.Lock()


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def github_comment(args, c):
    owner, repo = args.repository.split("/")
    base = "http://%s/repos/%s/%s" % (args.public_host, owner, repo)
    user = {"login": "plumbline-bot", "id": 1, "node_id": "U_1", "avatar_url": "https://example.test/a.png",
            "gravatar_id": "", "url": "https://api.github.com/users/plumbline-bot",
            "html_url": "https://github.com/plumbline-bot", "followers_url": "https://x.test/f",
            "following_url": "https://x.test/f", "gists_url": "https://x.test/g",
            "starred_url": "https://x.test/s", "subscriptions_url": "https://x.test/s",
            "organizations_url": "https://x.test/o", "repos_url": "https://x.test/r",
            "events_url": "https://x.test/e", "received_events_url": "https://x.test/e",
            "type": "Bot", "site_admin": False}
    return {"id": c["id"], "node_id": "IC_%d" % c["id"],
            "url": "%s/issues/comments/%d" % (base, c["id"]),
            "html_url": "https://github.com/%s/pull/%d#issuecomment-%d" % (args.repository, c["pr"], c["id"]),
            "body": c["body"], "user": user, "created_at": c["created_at"], "updated_at": c["updated_at"],
            "issue_url": "%s/issues/%d" % (base, c["pr"]), "author_association": "NONE"}


def gitlab_note(c):
    return {"id": c["id"], "type": None, "body": c["body"], "author": {"id": 1, "username": "plumbline-bot"},
            "created_at": c["created_at"], "updated_at": c["updated_at"], "system": c.get("system", False),
            "noteable_id": 1, "noteable_type": "MergeRequest", "noteable_iid": c["pr"],
            "resolvable": False, "confidential": False, "internal": False}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # quiet; the log is in /_state
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return json.loads(self.raw or b"{}")

    def authorized(self):
        a = self.server.args
        if a.flavor == "gitlab":
            return self.headers.get("PRIVATE-TOKEN") == a.token
        return self.headers.get("Authorization") in ("Bearer " + a.token, "token " + a.token)

    def handle_any(self, method):
        a = self.server.args
        # Read the whole body first: an early answer must not leave it on a kept-alive connection.
        n = int(self.headers.get("Content-Length") or 0)
        self.raw = self.rfile.read(n) if n else b""
        url = urlparse(self.path)
        query = parse_qs(url.query)
        with LOCK:
            STATE["log"].append({"method": method, "path": self.path,
                                 "auth": bool(self.headers.get("Authorization") or self.headers.get("PRIVATE-TOKEN"))})
        if url.path == "/_state":
            with LOCK:
                return self.reply(200, STATE)
        if not self.authorized():
            return self.reply(401, {"message": "Bad credentials" if a.flavor == "github" else "401 Unauthorized"})
        if method != "GET":
            with LOCK:
                limited = STATE["rate_limited"] < a.rate_limit
                if limited:
                    STATE["rate_limited"] += 1
            if limited:
                headers = {"Retry-After": "1"}
                if a.flavor == "github":
                    headers.update({"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
                                    "X-RateLimit-Reset": "0"})
                return self.reply(429, {"message": "You have exceeded a secondary rate limit."
                                        if a.flavor == "github" else "Retry later"}, headers)
        if a.flavor == "github":
            return self.github(method, url.path, query)
        return self.gitlab(method, url.path, query)

    def page(self, items, query, default_per_page):
        per_page = min(int(query.get("per_page", [default_per_page])[0]), 100)
        page = max(int(query.get("page", ["1"])[0]), 1)
        pages = max((len(items) + per_page - 1) // per_page, 1)
        return items[(page - 1) * per_page:page * per_page], page, pages, per_page

    def link(self, path, query, page, pages):
        a = self.server.args
        def url(p):
            q = dict((k, v[0]) for k, v in query.items())
            q["page"] = str(p)
            return "<http://%s%s?%s>" % (a.public_host, path, "&".join("%s=%s" % kv for kv in q.items()))
        parts = []
        if page < pages:
            parts.append('%s; rel="next"' % url(page + 1))
            parts.append('%s; rel="last"' % url(pages))
        if page > 1:
            parts.append('%s; rel="prev"' % url(page - 1))
            parts.append('%s; rel="first"' % url(1))
        return ", ".join(parts)

    def github(self, method, path, query):
        a = self.server.args
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/(\d+)/comments", path)
        if m and "%s/%s" % (m.group(1), m.group(2)) == a.repository:
            pr = int(m.group(3))
            with LOCK:
                if method == "GET":
                    items = [c for c in STATE["comments"].values() if c["pr"] == pr]
                    items.sort(key=lambda c: c["id"])
                    chunk, page, pages, _ = self.page(items, query, 30)
                    headers = {}
                    link = self.link(path, query, page, pages)
                    if link:
                        headers["Link"] = link
                    return self.reply(200, [github_comment(a, c) for c in chunk], headers)
                if method == "POST":
                    c = self.create(pr, self.body()["body"])
                    return self.reply(201, github_comment(a, c),
                                      {"Location": "http://%s/repos/%s/issues/comments/%d" % (a.public_host, a.repository, c["id"])})
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/comments/(\d+)", path)
        if m and "%s/%s" % (m.group(1), m.group(2)) == a.repository and method == "PATCH":
            with LOCK:
                c = STATE["comments"].get(m.group(3))
                if c is None:
                    return self.reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
                                            "status": "404"})
                c["body"] = self.body()["body"]
                c["updated_at"] = now()
                return self.reply(200, github_comment(a, c))
        return self.reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
                                "status": "404"})

    def gitlab(self, method, path, query):
        a = self.server.args
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes(?:/(\d+))?", path)
        project = m and m.group(1).replace("%2F", "/").replace("%2f", "/")
        if not m or project not in (a.repository, str(a.project_id)):
            return self.reply(404, {"message": "404 Project Not Found"})
        pr = int(m.group(2))
        with LOCK:
            if method == "GET" and not m.group(3):
                items = [c for c in STATE["comments"].values() if c["pr"] == pr]
                items.sort(key=lambda c: c["id"], reverse=query.get("sort", ["desc"])[0] == "desc")
                chunk, page, pages, per_page = self.page(items, query, 20)
                headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
                           "X-Total-Pages": str(pages), "X-Next-Page": str(page + 1) if page < pages else "",
                           "X-Prev-Page": str(page - 1) if page > 1 else ""}
                return self.reply(200, [gitlab_note(c) for c in chunk], headers)
            if method == "POST" and not m.group(3):
                return self.reply(201, gitlab_note(self.create(pr, self.body()["body"])))
            if method == "PUT" and m.group(3):
                c = STATE["comments"].get(m.group(3))
                if c is None or c["pr"] != pr:
                    return self.reply(404, {"message": "404 Not found"})
                c["body"] = self.body()["body"]
                c["updated_at"] = now()
                return self.reply(200, gitlab_note(c))
        return self.reply(405, {"message": "405 Method Not Allowed"})

    def create(self, pr, body, system=False):
        return create(pr, body, system)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")


def create(pr, body, system=False):
    STATE["next_id"] += 1
    c = {"id": STATE["next_id"], "pr": pr, "body": body, "created_at": now(), "updated_at": now(),
         "system": system}
    STATE["comments"][str(c["id"])] = c
    return c


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--flavor", choices=["github", "gitlab"], required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--repository", required=True)
    p.add_argument("--project-id", type=int, default=42)
    p.add_argument("--pr", type=int, default=1)
    p.add_argument("--seed", type=int, default=0, help="other people's comments on --pr")
    p.add_argument("--rate-limit", type=int, default=0)
    p.add_argument("--public-host", default="", help="host:port of links (a proxy in front)")
    p.add_argument("--port-file", required=True)
    args = p.parse_args()
    for i in range(args.seed):
        create(args.pr, "comment %d" % i, system=(args.flavor == "gitlab" and i % 3 == 0))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.args = args
    if not args.public_host:
        args.public_host = "127.0.0.1:%d" % server.server_address[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

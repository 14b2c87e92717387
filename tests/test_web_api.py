"""``htrkit serve``'s JSON API, with the bundled models: recognition by multipart and by
base64, modes and decoders, limits (413, 400, 415, 503), the option whitelist, the plugin
list, the OpenAPI description, and a real server under concurrent requests."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from htrkit.web.app import RequestError, Settings, create_app, request_options

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "images"
LINE = (EXAMPLES / "handwritten.png").read_bytes()
DIGITS = (EXAMPLES / "digits.png").read_bytes()


@pytest.fixture(scope="module")
def client():
    from starlette.testclient import TestClient

    app = create_app(Settings(max_upload_bytes=1_000_000, max_pixels=4_000_000))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def seven() -> bytes:
    image = np.full((280, 280), 255, np.uint8)
    cv2.line(image, (70, 60), (210, 60), 0, 20)
    cv2.line(image, (210, 60), (120, 230), 0, 20)
    return cv2.imencode(".png", image)[1].tobytes()


def post(client, data: bytes, name: str = "x.png", **fields):
    return client.post("/api/recognize", files={"image": (name, data, "image/png")}, data=fields)


def test_a_line_by_multipart(client):
    r = post(client, LINE, mode="line")
    assert r.status_code == 200
    body = r.json()
    assert body["text"] == "Handwriting is easy to read for htrkit"
    # the default decoding is the model's own: the default model's character LM
    assert body["mode"] == "line" and body["decoder"] == "kenlm" and body["model"] == "default"
    assert body["lang"] == "en"  # chosen for the line: the page shows it
    assert post(client, LINE, mode="line", lang="fr").json()["lang"] == "fr"
    assert 0.5 < body["confidence"] <= 1
    (line,) = body["lines"]
    assert [w["text"] for w in line["words"]] == body["text"].split()
    # geometry in the uploaded image's own coordinates (the server pads drawings)
    assert (body["width"], body["height"]) == (790, 64)
    x0, y0, x1, y1 = line["bbox"]
    assert 0 <= x0 < 20 and x1 > 770 and 0 <= y0 and y1 <= 64
    xs = [w["x0"] for w in line["words"]]
    assert xs == sorted(xs) and 0 <= xs[0] < 30 and line["words"][-1]["x1"] <= 790


def test_base64_and_data_urls(client):
    encoded = base64.b64encode(DIGITS).decode()
    for image in (encoded, "data:image/png;base64," + encoded):
        r = client.post("/api/recognize", json={"image": image, "mode": "word"})
        assert r.status_code == 200 and r.json()["text"] == "4096"


def test_digit_mode_reads_one_digit(client):
    body = post(client, seven(), mode="digit").json()
    assert body["text"] == "7" and body["model"] == "digits" and body["decoder"] == "pattern"


@pytest.mark.parametrize(
    "decoder, options",
    [("beam", {"beam_width": 8}), ("wordbeam", {}), ("kenlm", {"level": "char"})],
)
def test_decoders(client, decoder, options):
    r = post(client, LINE, decoder=decoder, options=json.dumps(options))
    assert r.status_code == 200, r.text
    assert r.json()["decoder"] == decoder
    assert r.json()["text"] == "Handwriting is easy to read for htrkit"


def test_a_pattern_preset_settles_letters_and_digits(client):
    r = client.post(
        "/api/recognize",
        json={
            "image": base64.b64encode(DIGITS).decode(),
            "decoder": "pattern",
            "options": {"pattern": "@year"},
        },
    )
    assert r.status_code == 200 and r.json()["text"] != ""  # fmt: skip
    assert all(c.isdigit() for c in r.json()["text"])


def test_page_mode_finds_lines(client):
    page = np.full((500, 900), 250, np.uint8)
    line = cv2.imdecode(np.frombuffer(LINE, np.uint8), cv2.IMREAD_GRAYSCALE)
    page[80:144, 40:830] = line
    page[300:364, 40:830] = line
    body = post(client, cv2.imencode(".png", page)[1].tobytes(), mode="page").json()
    assert len(body["lines"]) == 2
    assert body["lines"][0]["bbox"][1] < 144 <= body["lines"][1]["bbox"][1]
    assert body["text"].splitlines() == ["Handwriting is easy to read for htrkit"] * 2


@pytest.mark.parametrize("mode", ["digit", "line", "page"])
def test_a_blank_drawing_reads_nothing(client, mode):
    blank = cv2.imencode(".png", np.full((280, 280), 255, np.uint8))[1].tobytes()
    body = post(client, blank, mode=mode).json()
    assert body["text"] == "" and body["lines"] == [] and body["confidence"] == 0.0


@pytest.mark.parametrize(
    "data, name, needle",
    [
        (b"hello, not a picture", "notes.txt", "notes.txt: not an image"),
        (b"", "empty.png", "empty.png: file is empty"),
        (LINE[:200], "cut.png", "cut.png: corrupt or truncated image"),
        # the name is a label, never a path: nothing is read from it
        (b"GIF89a junk", "../../../etc/passwd", "passwd: "),
    ],
)
def test_bad_images_get_400_with_the_reason(client, data, name, needle):
    r = post(client, data, name=name)
    assert r.status_code == 400
    assert r.json()["error"].startswith(needle)
    assert "root:" not in r.text


def test_too_many_pixels_is_400_from_the_header(client):
    huge = cv2.imencode(".png", np.full((2500, 2000), 255, np.uint8))[1].tobytes()
    r = post(client, huge, name="huge.png")
    assert r.status_code == 400
    assert (
        "huge.png: image is 2000x2500 = 5,000,000 pixels, over the limit of 4,000,000"
        in (r.json()["error"])
    )


def test_a_body_over_the_limit_is_413(client):
    r = post(client, b"\x89PNG" + b"\x00" * 1_100_000, name="big.png")
    assert r.status_code == 413
    assert "over the limit of 1,000,000 bytes" in r.json()["error"]

    def chunks():  # no Content-Length: the limit is counted as the body streams in
        for _ in range(20):
            yield b"x" * 100_000

    r = client.post(
        "/api/recognize", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    "request_kwargs, status, needle",
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
         "not valid JSON"),
        ({"json": {"mode": "line"}}, 400, "needs 'image'"),
        ({"json": {"image": "%%%"}}, 400, "not valid base64"),
        ({"json": {"image": "AAAA", "mode": "poem"}}, 400, "mode 'poem' is not one of"),
        ({"json": {"image": "AAAA", "decoder": "beem"}}, 400, "decoder 'beem' is not offered"),
        ({"json": {"image": "AAAA", "lang": "tlh"}}, 400, "lang 'tlh' is not one of: auto, en"),
        ({"json": {"image": "AAAA", "decoder": "kenlm", "options": {"lm": "/etc/passwd"}}},
         400, "option 'lm' is not accepted"),
        ({"json": {"image": "AAAA", "decoder": "pattern", "options": {"pattern": "(a|b)*a"}}},
         400, "only presets are taken"),
        ({"json": {"image": "AAAA", "decoder": "beam", "options": {"beam_width": 10_000}}},
         400, "beam_width must be 1-64"),
        ({"content": b"raw bytes", "headers": {"content-type": "image/png"}}, 415,
         "send multipart/form-data or application/json"),
        ({"files": {"picture": ("a.png", b"x", "image/png")}}, 400, "no file field 'image'"),
        # found by a hardening probe (2026-12-07): each was a 500 or went through
        ({"content": b'{"image": "AAAA", "decoder": "beam", "options": {"beam_width": Infinity}}',
          "headers": {"content-type": "application/json"}}, 400, "is not a whole number"),
        ({"content": b'{"image": "AAAA", "mode": ' + b"9" * 5000 + b"}",
          "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"json": {"image": "AAAA", "decoder": "beam", "options": '{"beam_width": 1e400}'}},
         400, "is not a whole number"),
        ({"json": {"image": "AAAA", "decoder": "beam", "options": {"beam_width": 3.9}}},
         400, "beam_width '3.9' is not a whole number"),
        ({"json": {"image": "AAAA", "decoder": "beam", "options": {"beam_width": True}}},
         400, "is not a whole number"),
        ({"json": {"image": "AAAA", "decoder": "beam", "options": {"beam_width": " 8 "}}},
         400, "is not a whole number"),
        ({"json": {"image": "AAAA", "decoder": "beam", "options": {"beam_width": "9" * 5000}}},
         400, "beam_width must be 1-64"),
        # reviewed 2026-12-07: an error quotes at most 40 characters of what was sent
        ({"json": {"image": "AAAA", "decoder": "beam", "options": {"k" * 200_000: 1}}},
         400, "option 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk' is not accepted"),
        ({"json": {"image": "AAAA", "decoder": "kenlm", "options": {"level": "x" * 9000}}},
         400, "level must be 'word' or 'char', got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"),
        ({"json": {"image": "AAAA", "decoder": "beam", "options": {"beam_width": "9" * 300}}},
         400, "beam_width must be 1-64, got 9999999999"),
        ({"json": {"image": "AAAA", "decoder": "pattern"}}, 400,
         "needs the option 'pattern' (a preset such as @date)"),
        ({"files": {"image": ("a.png", b"x", "image/png")}, "data": {"mode": ["page", "line"]}},
         400, "gives 'mode' more than once"),
    ],
)  # fmt: skip
def test_bad_requests(client, request_kwargs, status, needle):
    r = client.post("/api/recognize", **request_kwargs)
    assert r.status_code == status
    assert needle in r.json()["error"]


def test_request_options_whitelist():
    assert request_options("greedy", None) == {}
    assert request_options("beam", '{"beam_width": "12"}') == {"beam_width": 12}
    assert request_options("pattern", {"pattern": "@date"}) == {"pattern": "@date"}
    with pytest.raises(RequestError, match="accepted: none"):
        request_options("greedy", {"beam_width": 4})
    with pytest.raises(RequestError, match="needs the option 'pattern'"):
        request_options("pattern", {})


def test_plugins_config_and_openapi(client):
    plugins = client.get("/api/plugins").json()
    decoders = {c["name"] for p in plugins for c in p["components"].get("decoder", [])}
    assert {"greedy", "beam", "wordbeam", "kenlm", "pattern"} <= decoders
    assert any(p["name"] == "segmenters" for p in plugins)
    config = client.get("/api/config").json()
    assert config["max_upload_bytes"] == 1_000_000 and "@date" in config["presets"]
    assert list(config["langs"]) == ["auto", "en", "fr", "de", "mixed"]
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/recognize"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)
    assert {"/api/plugins", "/api/config"} <= set(spec["paths"])


def test_the_page_and_its_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and "<canvas" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/app.js").headers["content-type"].startswith("text/javascript")
    # no static folder to walk out of
    for path in ("/static/../../pyproject.toml", "/..%2f..%2fpyproject.toml", "/app.js/../x"):
        assert client.get(path).status_code == 404


def test_a_full_queue_gets_503(client):
    work = client.app.state.recognition
    work.pending = work.settings.max_pending
    try:
        r = post(client, LINE)
    finally:
        work.pending = 0
    assert r.status_code == 503 and "server busy" in r.json()["error"]


def test_bad_settings_fail_at_start():
    from htrkit.errors import HtrkitError

    with pytest.raises(HtrkitError, match="missing.safetensors"):
        create_app(Settings(model="missing.safetensors"))


@pytest.mark.slow
def test_a_real_server_answers_concurrent_requests():
    """``htrkit serve`` in a subprocess: eight requests at once all get the right text, and
    the event loop answers /api/config while recognition is busy (it runs in threads)."""
    from browser import serve

    page = np.full((3000, 2400), 250, np.uint8)
    line = cv2.imdecode(np.frombuffer(LINE, np.uint8), cv2.IMREAD_GRAYSCALE)
    for y in range(100, 2900, 140):
        page[y : y + 64, 100:890] = line
        page[y : y + 64, 1200:1990] = line
    big = cv2.imencode(".png", page)[1].tobytes()

    def send(url: str, data: bytes, mode: str) -> tuple[int, dict]:
        boundary = "htrkitboundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="mode"\r\n\r\n{mode}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                f'filename="x.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        kind = f"multipart/form-data; boundary={boundary}"
        req = urllib.request.Request(
            url + "/api/recognize", data=body, method="POST", headers={"Content-Type": kind}
        )
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read())

    with serve() as url:
        done = threading.Event()

        def slow() -> tuple[int, dict]:
            try:
                return send(url, big, "page")
            finally:
                done.set()

        with ThreadPoolExecutor(9) as pool:
            busy = pool.submit(slow)
            time.sleep(0.3)
            with urllib.request.urlopen(url + "/api/config", timeout=30) as resp:
                assert resp.status == 200
                assert "server" not in {k.lower() for k in resp.headers}  # no banner
            # answered while the page (40 lines) is still being read, not after it
            config_before_page = not done.is_set()
            lines = [pool.submit(send, url, LINE, "line") for _ in range(8)]
            results = [f.result() for f in lines]
            status, page_result = busy.result()
        assert all(s == 200 and r["text"] == "Handwriting is easy to read for htrkit"
                   for s, r in results)  # fmt: skip
        assert status == 200 and len(page_result["lines"]) >= 20
        assert config_before_page


def test_serve_with_a_bad_model_says_so_in_one_line():
    from conftest import run_cli

    done = run_cli("serve", "--model", "missing.safetensors", "--port", "0")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "missing.safetensors" in done.stderr
    done = run_cli("serve", "--max-upload-mb", "0")
    assert done.returncode == 2 and "--max-upload-mb" in done.stderr


def test_pipeline_cli_and_api_read_a_line_alike(client, tmp_path):
    # one line image, three ways in: the same text, box and character positions
    from conftest import run_cli

    from htrkit import Pipeline

    path = tmp_path / "line.png"
    path.write_bytes(LINE)
    api = post(client, LINE, mode="line").json()
    cli = run_cli("run", path, "-f", "json")
    assert cli.returncode == 0, cli.stderr
    own = json.loads(json.dumps(Pipeline()(str(path)).to_dict()))
    for body in (json.loads(cli.stdout), own):
        assert body["text"] == api["text"]
        (a,), (b,) = body["lines"], api["lines"]
        assert a["bbox"] == b["bbox"]
        assert [(c["char"], round(c["x0"], 3)) for c in a["chars"]] == [
            (c["char"], round(c["x0"], 3)) for c in b["chars"]
        ]


def test_other_host_names_and_deep_json_get_400(client):
    """DNS rebinding: a request naming another host is refused; a JSON body nested
    100,000 deep is a bad request, not a 500 with a traceback in the log."""
    r = client.get("/api/config", headers={"host": "evil.example"})
    assert r.status_code == 400
    assert client.get("/api/config", headers={"host": "localhost:8000"}).status_code == 200
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post("/api/recognize", content=deep.encode(),
                    headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and r.json()["error"] == "the JSON body is nested too deeply"


def test_a_slow_client_is_cut_off_and_others_are_still_answered():
    """Slowloris: connections that never finish their headers, or their body, are closed
    once --request-timeout has passed; the server answers others all along."""
    import socket

    from browser import serve

    with serve("--request-timeout", "1") as url:
        port = int(url.rsplit(":", 1)[1])
        socks = []
        for k in range(60):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if k % 3 == 1:  # headers begun, never ended
                s.sendall(b"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
            elif k % 3 == 2:  # headers whole, the body never comes
                head = b"POST /api/recognize HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                s.sendall(head + b"Content-Type: application/json\r\nContent-Length: 99\r\n\r\n{")
            socks.append(s)  # k % 3 == 0: connected, nothing sent
        with urllib.request.urlopen(url + "/api/config", timeout=10) as resp:
            assert resp.status == 200  # answered while 60 connections hang
        time.sleep(2.5)
        closed = 0
        for s in socks:
            s.settimeout(0.2)
            try:
                closed += s.recv(1024) == b""
            except TimeoutError:  # still open
                pass
            except OSError:  # reset: closed too
                closed += 1
            s.close()
        assert closed == len(socks)
        with urllib.request.urlopen(url + "/api/config", timeout=10) as resp:
            assert resp.status == 200


def test_serve_answers_the_names_it_is_given():
    from htrkit.cli.serve import _hosts

    assert _hosts("127.0.0.1", []) == ("127.0.0.1", "localhost", "[::1]")
    assert _hosts("0.0.0.0", ["scribe.lan"]) == ("127.0.0.1", "localhost", "[::1]", "scribe.lan")
    assert _hosts("10.0.0.5", []) == ("127.0.0.1", "localhost", "[::1]", "10.0.0.5")


def test_an_error_never_echoes_a_long_input(client):
    r = client.post("/api/recognize", json={"image": "AAAA", "mode": "x" * 900_000})
    assert r.status_code == 400 and len(r.content) < 300


def _dds(fourcc: bytes) -> bytes:
    """A DDS header with a pixel format Pillow does not decode."""
    import struct

    head = struct.pack("<4sI", b"DDS ", 124) + struct.pack("<IIIIII", 0x1007, 16, 16, 0, 0, 0)
    pixel_format = struct.pack("<II4sIIIII", 32, 0x4, fourcc, 0, 0, 0, 0, 0)
    return (
        head + b"\0" * 44 + pixel_format + struct.pack("<IIIII", 0x1000, 0, 0, 0, 0) + bytes(4096)
    )


@pytest.mark.parametrize(
    "data",
    [_dds(b"XXXX"), b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n" + b" " * 100],
    ids=["dds", "eps"],
)
def test_formats_that_are_not_scans_are_refused(client, data):
    # a DDS of an unknown pixel format was a 500 (NotImplementedError); an EPS would have
    # been handed to Ghostscript where it is installed
    r = post(client, data, name="x.img")
    assert r.status_code == 400 and "not an image" in r.json()["error"]


def test_every_answer_has_the_headers_and_the_error_shape(client):
    for r in (client.get("/nothing-here"), client.put("/api/recognize"),
              client.post("/api/recognize", content=b"x" * 2_000_000,
                          headers={"content-type": "application/json"}),
              client.get("/", headers={"host": "evil.example"})):  # fmt: skip
        assert r.status_code in (400, 404, 405, 413), r.status_code
        assert r.headers["x-content-type-options"] == "nosniff", r.status_code
        assert r.headers["cross-origin-resource-policy"] == "same-origin"
        if r.status_code in (404, 405):
            assert "error" in r.json()
    assert client.get("/api/config").headers["cache-control"] == "no-store"
    assert post(client, LINE).headers["cache-control"] == "no-store"


def test_another_site_cannot_make_the_server_read(client):
    cross = post(client, LINE).status_code, post_from(client, "http://evil.example")
    assert cross == (200, 403)
    assert post_from(client, "http://127.0.0.1") == 200  # the page itself


def post_from(client, origin: str) -> int:
    r = client.post("/api/recognize", files={"image": ("x.png", LINE, "image/png")},
                    headers={"origin": origin})  # fmt: skip
    return r.status_code


def test_a_worker_keeps_a_few_pipelines():
    from htrkit.loading import load_recognizer
    from htrkit.web.workers import PIPELINES_PER_WORKER, Recognition

    work = Recognition(Settings(), {"model": load_recognizer("default")})
    first = work.pipeline("line", "beam", {"beam_width": 1})
    for width in range(2, PIPELINES_PER_WORKER + 6):  # a client varying its options
        work.pipeline("line", "beam", {"beam_width": width})
    assert len(work.local.pipelines) == PIPELINES_PER_WORKER
    assert work.pipeline("line", "beam", {"beam_width": 1}) is not first  # it was let go

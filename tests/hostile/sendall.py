"""A client that sends its whole request body before it reads anything,
as Python's http.client does: prints the status and the first line of the
answer, or the error that ended the exchange (issue 13: a 9 MiB body got
the connection closed under the client, SSLEOFError, not its 413).

    sendall.py PORT CAFILE PATH SIZE [chunked]

The body is SIZE bytes of JSON whitespace with Content-Length (or chunked
transfer encoding). Loopback only, one request, 60 s at most.
"""
import http.client
import ssl
import sys

port, cafile, path, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
chunked = len(sys.argv) > 5 and sys.argv[5] == "chunked"
ctx = ssl.create_default_context(cafile=cafile)
conn = http.client.HTTPSConnection("capgate.capgate.svc", port, context=ctx, timeout=60)
# The certificate names the Service; connect to loopback under that name.
conn._create_connection = lambda addr, timeout, src: __import__("socket").create_connection(
    ("127.0.0.1", port), timeout)
headers = {"Content-Type": "application/json"}
block = b" " * 65536
try:
    if chunked:
        def body():
            left = size
            while left > 0:
                n = min(left, len(block))
                yield block[:n]
                left -= n
        conn.request("POST", path, body=body(), headers=headers, encode_chunked=True)
    else:
        headers["Content-Length"] = str(size)
        conn.putrequest("POST", path)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        left = size
        while left > 0:
            n = min(left, len(block))
            conn.send(block[:n])
            left -= n
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace").splitlines()
    print(resp.status, text[0] if text else "")
except Exception as e:  # the failure is the finding: print it, exit 0
    print("error", type(e).__name__, e)

#!/usr/bin/env python3
"""Runs a command with NOTIFY_SOCKET pointing at a datagram socket this script owns (what systemd does for
Type=notify units) and prints one JSON object: the messages received (with the time since start) and the
command's exit status and output."""
import json, os, socket, subprocess, sys, tempfile, threading, time

sockdir = tempfile.mkdtemp(prefix='berth-notify-')
path = os.path.join(sockdir, 'notify')
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(0.2)
messages, start, done = [], time.monotonic(), threading.Event()


def listen():
    while not done.is_set():
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        messages.append({'t': time.monotonic() - start, 'msg': data.decode()})


th = threading.Thread(target=listen)
th.start()
env = dict(os.environ, NOTIFY_SOCKET=path)
r = subprocess.run(sys.argv[1:], env=env, capture_output=True, text=True)
time.sleep(0.3)
done.set()
th.join()
sock.close()
os.unlink(path)
os.rmdir(sockdir)
print(json.dumps({'status': r.returncode, 'stdout': r.stdout, 'stderr': r.stderr, 'messages': messages}))

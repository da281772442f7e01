#!/usr/bin/env python3
"""tests/cli/repl_tty.py: the interactive kiln REPL through a pseudo-terminal
(readline prompts, results, multi-line input, tab completion, Ctrl-C at the
prompt and in a running loop, _PROMPT, Ctrl-D, the history file).
usage: python3 tests/cli/repl_tty.py path/to/kiln
Prints PASS/FAIL/SKIP lines "cli:tty_<name>"; exit status 1 if anything failed.
Uses only the Python standard library (pty, os, select)."""
import os, pty, select, signal, sys, tempfile, time

kiln = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "bin/kiln")
tmp = tempfile.mkdtemp(prefix="kiln-tty.")
hist = os.path.join(tmp, "history")
fails = 0


def report(name, ok, why=""):
    global fails
    if ok:
        print("PASS cli:tty_" + name)
    else:
        fails += 1
        print("FAIL cli:tty_%s: %s" % (name, why))
    sys.stdout.flush()


try:
    pid, fd = pty.fork()
except OSError as e:      # no pseudo-terminals here (some containers)
    print("SKIP cli:tty: no pseudo-terminal (%s)" % e)
    os.rmdir(tmp)
    sys.exit(0)
if pid == 0:
    env = dict(os.environ, TERM="dumb", KILN_HISTORY=hist, HOME=tmp)
    os.execve(kiln, [kiln], env)

buf = b""


def expect(needle, timeout=5.0):
    """Read until needle (bytes) appears; consume through it. True if found."""
    global buf
    end = time.time() + timeout
    while needle not in buf:
        left = end - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            buf += data
    buf = buf[buf.index(needle) + len(needle):]
    return True


def send(s, pause=0.05):
    os.write(fd, s.encode())
    time.sleep(pause)


try:
    report("prompt", expect(b"kiln> "), "no prompt")
    send("1+1\r")
    report("expression", expect(b"2\r\n") and expect(b"kiln> "), repr(buf[-200:]))
    send("for i = 1, 2 do\r")
    report("continuation_prompt", expect(b"...> "), repr(buf[-200:]))
    send("print(i * 10) end\r")
    report("multiline", expect(b"10\r\n20\r\n") and expect(b"kiln> "), repr(buf[-200:]))
    send("abcdef", 0.2)
    send("\x03", 0.2)
    report("ctrl_c_prompt", expect(b"kiln> "), repr(buf[-200:]))
    send("=3*3\r")
    report("after_ctrl_c", expect(b"9\r\n") and expect(b"kiln> "), repr(buf[-200:]))
    send("if true then\r")
    expect(b"...> ")
    send("\x03", 0.2)
    report("ctrl_c_drops_chunk", expect(b"kiln> "), repr(buf[-200:]))
    send("=42\r")
    report("after_drop", expect(b"42\r\n") and expect(b"kiln> "), repr(buf[-200:]))
    send("while true do end\r", 0.5)
    send("\x03", 0.2)
    report("ctrl_c_loop", expect(b"interrupted!") and expect(b"kiln> "), repr(buf[-200:]))
    send("string.up\t", 0.3)
    send("'x')\r")
    report("complete_field", expect(b"string.upper('x')") and expect(b"X\r\n")
           and expect(b"kiln> "), repr(buf[-200:]))
    send("s = 'abc'\r")
    expect(b"kiln> ")
    send("s:le\t", 0.3)
    send(")\r")
    report("complete_method", expect(b"s:len()") and expect(b"3\r\n") and expect(b"kiln> "),
           repr(buf[-200:]))
    send("kiln.crys\t", 0.3)
    send(".\t\t", 0.3)
    report("complete_module", expect(b"kiln.crystal.diamond("), repr(buf[-300:]))
    send("\x15\r")          # Ctrl-U: clear the line
    expect(b"kiln> ")
    send("_PROMPT = 'my> '\r")
    report("prompt_var", expect(b"my> "), repr(buf[-200:]))
    send("\x04")            # Ctrl-D: end of input
    _, status = os.waitpid(pid, 0)
    report("ctrl_d_exit", os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
           "status %r" % status)
    lines = open(hist).read().splitlines() if os.path.exists(hist) else []
    report("history", "1+1" in lines and "=42" in lines and "for i = 1, 2 do print(i * 10) end" in lines,
           repr(lines))
except Exception as e:   # a broken pty or a dead child: one failure, not a traceback
    report("session", False, repr(e))
finally:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    for f in os.listdir(tmp):
        os.remove(os.path.join(tmp, f))
    os.rmdir(tmp)
sys.exit(1 if fails else 0)

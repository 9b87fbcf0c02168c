# procs.py: starting the benchmark processes, reading their protocol lines
# ("port N", "result SECONDS COUNT", "metric NAME VALUE"), and making sure
# each one stops: every wait is bounded and a process that overstays is
# killed by the PID this module started it with.
import os
import resource
import select
import socket
import subprocess
import tempfile

# No single run of any workload should come near this.
RUN_TIMEOUT_S = 300
PORT_TIMEOUT_S = 60


class RunError(Exception):
    """One run failed; the message says which command and why."""


class Output:
    def __init__(self, seconds, count, metrics):
        self.seconds = seconds
        self.count = count
        self.metrics = metrics
        # run_pair: the server's whole CPU time, user and system seconds
        self.server_cpu = None


def describe(cmd):
    return " ".join(os.path.basename(str(c)) if i == 0 else str(c)
                    for i, c in enumerate(cmd))


class Proc:
    """A child process whose stdout is read as lines and whose stderr is
    kept in a file, so that a chatty child can never block on a pipe."""

    def __init__(self, cmd, env):
        self.cmd = [str(c) for c in cmd]
        self.err = tempfile.TemporaryFile(mode="w+")
        try:
            self.p = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                      stderr=self.err, env=env, text=True,
                                      stdin=subprocess.DEVNULL)
        except OSError as e:
            self.err.close()
            raise RunError("%s: %s" % (describe(self.cmd), e)) from None
        self.lines = []

    def stderr_tail(self):
        self.err.seek(0)
        text = self.err.read().strip().splitlines()
        return " | ".join(text[-3:])

    def read_port(self):
        ready, _, _ = select.select([self.p.stdout], [], [], PORT_TIMEOUT_S)
        line = self.p.stdout.readline() if ready else ""
        if not line.startswith("port "):
            self.kill()
            raise RunError("%s: no 'port' line (%s)" %
                           (describe(self.cmd), self.stderr_tail()))
        return int(line.split()[1])

    def wait(self, timeout=RUN_TIMEOUT_S):
        try:
            out, _ = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RunError("%s: still running after %d s, killed" %
                           (describe(self.cmd), timeout)) from None
        self.lines += out.splitlines()
        if self.p.returncode != 0:
            raise RunError("%s: exit status %d (%s)" %
                           (describe(self.cmd), self.p.returncode,
                            self.stderr_tail()))
        return self

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()  # this very child, by the PID Popen gave it
            self.p.wait()

    def output(self):
        result, metrics = None, {}
        for line in self.lines:
            words = line.split()
            if words[:1] == ["result"] and len(words) == 3:
                result = (float(words[1]), int(words[2]))
            elif words[:1] == ["metric"] and len(words) == 3:
                metrics[words[1]] = float(words[2])
        if result is None:
            raise RunError("%s: no 'result' line" % describe(self.cmd))
        return Output(result[0], result[1], metrics)

    def close(self):
        self.kill()
        self.err.close()


def run_one(cmd, env):
    """Runs a self-contained workload; returns its Output."""
    p = Proc(cmd, env)
    try:
        return p.wait().output()
    finally:
        p.close()


def run_pair(server_cmd, server_env, client_cmd, client_env, timed):
    """Starts a server that announces its port, then a client given that
    port (client_cmd is a function of it); returns the Output of the
    timed side, "server" or "client", with the server's CPU time."""
    server = Proc(server_cmd, server_env)
    client = None
    try:
        port = server.read_port()
        client = Proc(client_cmd(port), client_env)
        client.wait()
        # Between the two reaps the children's times grow by the server's.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        server.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = (server if timed == "server" else client).output()
        out.server_cpu = (after.ru_utime - before.ru_utime,
                          after.ru_stime - before.ru_stime)
        return out
    finally:
        server.close()  # a peer left waiting by a failed client stops here
        if client:
            client.close()


def free_port():
    """A loopback port that was free a moment ago, for servers that cannot
    report the port they were given (MicroPython's built-in socket has no
    getsockname)."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()

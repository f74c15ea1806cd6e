import subprocess

QUEUE: list[str] = []


def run():
    subprocess.run(["make", "report"], check=True)


def enqueue():
    QUEUE.append("report")

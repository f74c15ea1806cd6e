import subprocess
import time

import requests


def nap():
    time.sleep(1)


def no_nap():
    time.sleep(0)  # a zero sleep yields, it does not block


def job_factory():
    def job():
        subprocess.run(["true"])  # runs when the job is called, elsewhere

    return job


def shadowed(requests):
    return requests.post("x")  # a parameter named like the module


def lazy_urls(urls):
    return (requests.get(u) for u in urls)  # runs only when consumed


def polled(ready):
    while not ready():
        time.sleep(1)  # may run no time


def cached():
    return _load()


_load = None

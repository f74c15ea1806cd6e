"""Clients and services that import no web framework: their per-file analysis finds no request
path, so only the endpoints that call them can say that they block."""
import asyncio
import smtplib
import time

import requests


class Mailer:
    def __init__(self, host: str):
        self.host = host
        self.http = requests.Session()  # builds a session, connects nowhere

    def send(self, to):
        with smtplib.SMTP(self.host) as smtp:  # connects to the host
            smtp.sendmail("shop@example.com", [to], "hello")

    def ping(self):
        return self.http.get("https://status.example")

    def check(self):
        return self.ping()


class Offline:
    def __init__(self):
        self.smtp = smtplib.SMTP()  # no host: connects nowhere until told to

    def send(self):
        return None


class Remote:
    def __init__(self):
        self.config = requests.get("https://config.example").json()  # the constructor blocks


class Reports:
    @staticmethod
    def build():
        return open("/tmp/report.csv").read()


mailer = Mailer("smtp.example")


async def fetch_status():
    """An async helper that blocks: awaiting it runs requests.get() on the event loop."""
    return requests.get("https://status.example").json()


async def fetch_status_threaded():
    return await asyncio.to_thread(requests.get, "https://status.example")


def early():
    return defined_later()  # a function defined further down the module


def defined_later():
    time.sleep(1)

import subprocess


def speak(text):
    return subprocess.run(["say", text], check=True)

from shop.services import tts


def announce(text):
    """Two modules away from the endpoint: announce -> tts.speak -> requests.post."""
    return tts.speak(f"announcement: {text}")

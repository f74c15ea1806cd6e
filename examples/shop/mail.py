"""Sends order confirmations with a blocking SMTP client."""
import smtplib


def send_confirmation(address: str, order_id: int) -> None:
    with smtplib.SMTP("mail.example.com") as smtp:  # connects and talks SMTP on the caller's thread
        smtp.sendmail("shop@example.com", [address], f"Order {order_id} confirmed")

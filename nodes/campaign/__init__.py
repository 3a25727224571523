"""Campaign node types: trigger, condition, channel (WhatsApp, SMS, email, Messenger, Viber) and dial."""

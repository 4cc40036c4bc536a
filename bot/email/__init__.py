"""Email to a session's peer: smtp (SMTP client, typed one-line errors) and service (contacts
from the PeeringDB mirror, templates/email/*.j2, compose / check / send).

May import: bot.changes and everything below it; never bot.irr or bot.home (siblings)."""

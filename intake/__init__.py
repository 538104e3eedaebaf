"""Mail intake: sources (IMAP, Maildir), MIME → attachments, threading, outgoing mail."""

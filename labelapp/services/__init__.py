"""Services: turn requests into database work. Pages, the API and the CLI all go through here."""

"""What the tests share: generated media, a live server, a spare Redis database, campaign set-ups."""

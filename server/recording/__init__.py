"""Call recording (全程录音录像): chunk upload from the console, encrypted storage, replay, retention."""

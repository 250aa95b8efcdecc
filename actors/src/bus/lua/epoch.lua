-- KEYS: epoch. The current epoch (started if Redis has none).
return current_epoch()

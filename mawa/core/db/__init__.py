"""Database backends of Mawa (the SQLCipher-encrypted SQLite)."""

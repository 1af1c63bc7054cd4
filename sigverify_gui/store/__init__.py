"""The branch's SQLite store (sqlite-utils). No Qt."""

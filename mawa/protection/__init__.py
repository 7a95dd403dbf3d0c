"""Data protection across the domain apps: the subject access report (everything held about
one person) and the retention schedule that really deletes. It reads reception, custody, camp
and matching, so it sits above them; it never imports the accountability compartment."""

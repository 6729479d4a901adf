"""Infrastructure: settings, database engines, migrations and embedded launchers."""

"""What is kept: the database (engine, tables, migrations, the jobs table), file storage and
durable writes, digests and spreadsheets. Imports the core and the settings, nothing above."""

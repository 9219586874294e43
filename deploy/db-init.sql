-- deploy/compose.yaml: the service's restricted login role (the migrations, run as the owner,
-- grant it its privileges). Change the password here, in compose.yaml and in pgbouncer/userlist.txt.
CREATE ROLE gestion_app LOGIN PASSWORD 'CHANGE_ME_app_password';

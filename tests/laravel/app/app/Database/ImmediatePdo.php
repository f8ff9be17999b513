<?php

declare(strict_types=1);

namespace App\Database;

/**
 * The test application's SQLite PDO: transactions begin with BEGIN IMMEDIATE instead of a deferred BEGIN.
 *
 * Why: Laravel's `database` queue reserves and deletes jobs in "read, then write" transactions. With several
 * queue:work processes on one SQLite file, two deferred transactions that have both read and then both want to
 * write deadlock, and SQLite fails one of them at once with "database is locked" (a busy timeout does not help);
 * a finished job's delete is then lost and the job stays in the table. BEGIN IMMEDIATE takes the write lock
 * first, so the others wait (PDO's busy timeout) instead. This is about SQLite only, not Publisher Pulsar: on
 * MySQL or PostgreSQL the queue's SELECT ... FOR UPDATE does the same.
 */
class ImmediatePdo extends \PDO
{
    private bool $open = false;

    public function beginTransaction(): bool
    {
        $this->exec('BEGIN IMMEDIATE');
        $this->open = true;
        return true;
    }

    public function commit(): bool
    {
        $this->exec('COMMIT');
        $this->open = false;
        return true;
    }

    public function rollBack(): bool
    {
        $this->open = false;
        $this->exec('ROLLBACK');
        return true;
    }

    public function inTransaction(): bool
    {
        return $this->open;
    }
}

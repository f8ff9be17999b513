<?php
/**
 * Checks the queue test's outcome (tests/laravel/run.sh). Arguments: RECORD_FILE LARAVEL_LOG SQLITE_FILE COUNT
 * RETRIED_IDS PAUSE_IDS N PERIOD JITTER.
 *
 * 1. Exactly once: every job 1..COUNT has exactly one DONE; a job in RETRIED_IDS started exactly twice (attempt 1
 *    threw SlowDown or a 429 RequestException and was released, attempt 2 finished), any other job exactly once;
 *    the jobs and failed_jobs tables are empty.
 * 2. The rate: by the jobs' own START times, no N+1 starts lie within PERIOD - JITTER seconds of one another.
 *    Why a JITTER: the daemon spaces its pulses, not the jobs' first lines; between a pulse's publication and the
 *    job's START line lie the pulse's delivery, the worker's unserialize() and the middleware's return, which
 *    differ from one worker to another. Two starts of one pulse followed by an early start of the next may thus
 *    be slightly closer than PERIOD. run.sh allows 0.1 s; the smallest gap seen is printed (about 0.50 s in
 *    practice, so the allowance has not been used).
 * 3. Pauses: after a job of PAUSE_IDS threw its 429 with Retry-After: 1 (or PauseFor(1)), no job started for a second (beyond the
 *    JITTER of a job released by the same pulse).
 * 4. Slow-downs shrink the pulses: Laravel's log file holds the daemon's "pulse iteration finished" records, and
 *    at least one of them with errors > 0 has next_n < n.
 */

declare(strict_types=1);

function fail(string $why): void
{
    fwrite(STDERR, "check-queue: FAIL: $why\n");
    exit(1);
}

if ($argc !== 10) {
    fwrite(STDERR, "usage: php check-queue.php RECORD_FILE LARAVEL_LOG SQLITE_FILE COUNT RETRIED_IDS PAUSE_IDS N PERIOD JITTER\n");
    exit(2);
}
[, $recordFile, $logFile, $sqlite, $count, $slowIds, $pauseIds, $n, $period, $jitter] = $argv;
$pauses = array_map('intval', array_filter(explode(',', $pauseIds)));
$throws = [];
$count = (int) $count;
$n = (int) $n;
$period = (float) $period;
$jitter = (float) $jitter;
$slow = array_map('intval', array_filter(explode(',', $slowIds)));

$starts = [];
$startsById = [];
$done = [];
foreach (file($recordFile, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) ?: [] as $line) {
    $f = explode(' ', $line);
    if ($f[0] === 'START') {
        $starts[] = (float) $f[3];
        $startsById[(int) $f[1]][] = (int) $f[2];
    } elseif ($f[0] === 'THROW') {
        $throws[(int) $f[1]] = (float) $f[3];
    } elseif ($f[0] === 'DONE') {
        $done[(int) $f[1]] = ($done[(int) $f[1]] ?? 0) + 1;
    }
}
for ($id = 1; $id <= $count; $id++) {
    if (($done[$id] ?? 0) !== 1) {
        fail("job $id finished " . ($done[$id] ?? 0) . ' times (expected exactly once)');
    }
    $expected = in_array($id, $slow, true) ? [1, 2] : [1];
    if (($startsById[$id] ?? []) !== $expected) {
        fail("job $id started with attempts [" . implode(',', $startsById[$id] ?? []) . '], expected [' . implode(',', $expected) . ']');
    }
}
if (count($startsById) !== $count) {
    fail('unexpected job ids started: ' . implode(',', array_diff(array_keys($startsById), range(1, $count))));
}
$pdo = new PDO('sqlite:' . $sqlite);
foreach (['jobs', 'failed_jobs'] as $table) {
    $left = (int) $pdo->query("SELECT COUNT(*) FROM $table")->fetchColumn();
    if ($left !== 0) {
        fail("$left rows left in $table");
    }
}
printf("exactly once: %d jobs done once each, %d of them on a second attempt after a SlowDown, a 429 or a PauseFor; jobs and failed_jobs empty\n", $count, count($slow));

sort($starts);
$minGap = INF;
for ($i = 0; $i + $n < count($starts); $i++) {
    $gap = $starts[$i + $n] - $starts[$i];
    $minGap = min($minGap, $gap);
    if ($gap < $period - $jitter) {
        fail(sprintf('%d starts within %.3f s (from %.6f): more than %d per %.2f s period', $n + 1, $gap, $starts[$i], $n, $period));
    }
}
printf("rate: %d starts, any %d consecutive starts at least %.3f s apart (bound %.3f = %.2f - %.2f jitter)\n",
    count($starts), $n + 1, $minGap, $period - $jitter, $period, $jitter);

foreach ($pauses as $id) {
    if (!isset($throws[$id])) {
        fail("job $id did not throw its pause (429 with Retry-After, or PauseFor)");
    }
    foreach ($starts as $start) {
        if ($start > $throws[$id] + $jitter && $start < $throws[$id] + 1.0) {
            fail(sprintf('a job started %.3f s after job %d asked for a 1 s pause (the pause was not kept)', $start - $throws[$id], $id));
        }
    }
    printf("pause: no job started within 1 s after job %d asked for a 1 s pause\n", $id);
}

$pulses = 0;
$shrunk = 0;
foreach (file($logFile, FILE_IGNORE_NEW_LINES) ?: [] as $line) {
    if (preg_match('/pulse iteration finished (\{.*\})\s*(\[\])?\s*$/', $line, $m) !== 1) {
        continue;
    }
    $ctx = json_decode($m[1], true);
    if (!is_array($ctx)) {
        fail("unreadable pulse record in Laravel's log: $line");
    }
    $pulses++;
    if (($ctx['errors'] ?? 0) > 0 && ($ctx['next_n'] ?? PHP_INT_MAX) < ($ctx['n'] ?? 0)) {
        $shrunk++;
    }
}
if ($pulses === 0) {
    fail("no \"pulse iteration finished\" record in Laravel's log $logFile");
}
if ($shrunk === 0) {
    fail('no pulse with errors shrank N (next_n < n) in Laravel\'s log');
}
printf("adaptation: %d pulse records in Laravel's log, %d with slow-down errors shrank N\n", $pulses, $shrunk);

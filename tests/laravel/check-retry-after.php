<?php
/**
 * WaitForPermission::retryAfterSeconds(): the Retry-After header's two forms (RFC 9110: delta-seconds or an
 * HTTP date) and what does not count (absent, garbage, zero, a date not in the future). Exit 1 on a mismatch.
 */

declare(strict_types=1);

require dirname(__DIR__) . '/phpunit-ffi/autoload.php'; // composer.json's PSR-4 map

use PublisherPulsar\Laravel\Middleware\WaitForPermission;

$now = gmmktime(12, 0, 0, 6, 1, 2026);
$cases = [
    ['120', 120.0],
    [' 5 ', 5.0],
    ['0', null],
    ['', null],
    [null, null],
    ['soon', null],
    ['-3', null],
    [gmdate('D, d M Y H:i:s', $now + 90) . ' GMT', 90.0],
    [gmdate('D, d M Y H:i:s', $now - 10) . ' GMT', null],
    ['Mon, 32 Foo 2026 99:00:00 GMT', null],
];
$failed = 0;
foreach ($cases as [$header, $expected]) {
    $got = WaitForPermission::retryAfterSeconds($header, $now);
    if ($got !== $expected) {
        fwrite(STDERR, sprintf("retryAfterSeconds(%s) = %s, expected %s\n", var_export($header, true), var_export($got, true), var_export($expected, true)));
        $failed++;
    }
}
if ($failed > 0) {
    exit(1);
}
printf("Retry-After: %d header values read as expected (seconds, HTTP dates, and what is ignored)\n", count($cases));

<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Inventory\ActionResultingPushDto;

/**
 * A daemon without a logger writes Monolog-style lines on STDOUT: one record is one line, whatever a worker's error
 * message or the moduleName holds. A worker reports an error whose message forges 20 lines with ANSI escapes;
 * every line the daemon writes must still be a record of its own (or the fixture's own markers).
 */
final class LogLinesTest extends PulsarTestCase
{
    public function testAnErrorMessageWithNewlinesAndEscapesStaysOneLine(): void
    {
        [$daemon, $sockets] = $this->startDaemon([
            'moduleName' => "life\ncycle\x1b[31m",
            'pulsationIterationPeriod' => 0.2,
            'subscribersPerIteration' => 1,
            'maxWaitReplyStackResult' => 0.5,
        ]);
        $message = "quota exceeded";
        for ($i = 0; $i < 20; $i++) {
            $message .= sprintf("\n[2026-01-01T00:00:00.000000+00:00] \x1b[32mforged.INFO\x1b[0m: forged line %02d", $i);
        }
        $performer = $this->newPerformer($sockets);
        $performer->connectToPulsarAndWaitPermissionToAct();
        $result = new ActionResultingPushDto();
        $result->setActionCompleteCorrectly(false);
        $result->setErrorMessage(substr($message, 0, 500));
        $result->setErrorReason("reason\r\n\x07");
        $performer->pushActionResultInfo($result);
        $this->assertTrue($daemon->waitForOutput('error_message', 15), $daemon->describe());
        $this->stopDaemon($daemon);

        $lines = explode("\n", rtrim($daemon->stdout(), "\n"));
        $carrying = [];
        foreach ($lines as $line) {
            if (in_array($line, ['MANAGE RETURNED'], true)) {
                continue;
            }
            $this->assertMatchesRegularExpression(
                '/^\[\d{4}-\d\d-\d\dT[^\]]+\] life\\\\ncycle\\\\x1b\[31m\.(INFO|WARNING|ERROR|DEBUG): /',
                $line,
                "a line that is no record of its own:\n" . $daemon->stdout()
            );
            $this->assertStringNotContainsString("\x1b", $line);
            if (str_contains($line, 'forged line')) {
                $carrying[] = $line;
            }
        }
        $this->assertCount(1, $carrying, $daemon->stdout());
        $forged = (string) $carrying[0];
        // The context is JSON: the exact text, escaped by JSON's rules.
        $this->assertStringContainsString('"error_message":"quota exceeded\n[2026-01-01T00:00:00.000000+00:00] '
            . '\u001b[32mforged.INFO\u001b[0m: forged line 00\n', $forged);
        $this->assertStringContainsString('"error_reason":"reason\r\n\u0007"', $forged);
    }
}

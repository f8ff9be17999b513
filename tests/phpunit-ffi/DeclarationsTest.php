<?php

declare(strict_types=1);

namespace PulsarFfiTest;

use PHPUnit\Framework\TestCase;
use React\PublisherPulsar\Ffi\Library;

/**
 * The FFI classes declare libpulsar's functions themselves (PHP's C parser rejects the header as cbindgen writes
 * it), so these checks keep that copy honest: every declaration is in include/pulsar.h word for word, every
 * function of the header is declared, and the numbers PHP uses are the header's.
 */
final class DeclarationsTest extends TestCase
{
    private const HEADER = __DIR__ . '/../../include/pulsar.h';

    /** The header without comments, one space for any run of white space. */
    private static function header(): string
    {
        $text = (string) file_get_contents(self::HEADER);
        $text = (string) preg_replace('#/\*.*?\*/#s', ' ', $text);
        $text = (string) preg_replace('#//[^\n]*#', ' ', $text);
        $text = (string) preg_replace('/^\s*#[^\n]*$/m', ' ', $text);
        return self::normalized($text);
    }

    private static function normalized(string $text): string
    {
        return trim((string) preg_replace('/\s+/', ' ', $text));
    }

    /** @return array<string,string> function name => its normalized prototype, from a text of declarations */
    private static function prototypes(string $text): array
    {
        preg_match_all('/[A-Za-z_][A-Za-z0-9_ *]*?\b(pulsar_[a-z_]+)\s*\([^;{]*\)\s*;/', $text, $m, PREG_SET_ORDER);
        $found = [];
        foreach ($m as [$prototype, $name]) {
            $found[$name] = self::normalized($prototype);
        }
        return $found;
    }

    public function testEveryDeclaredFunctionIsInTheHeaderWithTheSameSignature(): void
    {
        $header = self::prototypes(self::header());
        $declared = self::prototypes(Library::DECLARATIONS);
        $this->assertNotEmpty($declared);
        foreach ($declared as $name => $prototype) {
            $this->assertArrayHasKey($name, $header, "$name is declared for FFI but not in include/pulsar.h");
            $this->assertSame($header[$name], $prototype, "the FFI declaration of $name differs from include/pulsar.h");
        }
    }

    public function testEveryFunctionOfTheHeaderIsDeclared(): void
    {
        $missing = array_diff_key(self::prototypes(self::header()), self::prototypes(Library::DECLARATIONS));
        $this->assertSame([], $missing, 'include/pulsar.h has functions the FFI declarations lack: add them to Library::DECLARATIONS');
    }

    public function testTheStructsAreTheHeaders(): void
    {
        foreach (['PulsarDaemonStats', 'PulsarActionResult'] as $struct) {
            $pattern = "/typedef struct $struct \\{(.*?)\\} $struct;/s";
            $this->assertSame(1, preg_match($pattern, self::header(), $header), $struct);
            $this->assertSame(1, preg_match($pattern, self::normalized(Library::DECLARATIONS), $declared), $struct);
            $this->assertSame(trim($header[1]), trim($declared[1]), $struct);
        }
    }

    public function testStatusEndpointAndOptionalBoolNumbersAreTheHeaders(): void
    {
        preg_match_all('/\b(PULSAR_(STATUS|ENDPOINT|OPTIONAL_BOOL)_[A-Z0-9_]+) = (\d+)/', self::header(), $m, PREG_SET_ORDER);
        $this->assertGreaterThan(10, count($m));
        foreach ($m as [, $constant, , $value]) {
            $name = Library::class . '::' . substr($constant, strlen('PULSAR_'));
            $this->assertTrue(defined($name), "Library lacks $constant");
            $this->assertSame((int) $value, constant($name), $constant);
        }
    }

    public function testTheDeclarationsLoadWithTheBuiltLibrary(): void
    {
        $ffi = Library::ffi();
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', $ffi->pulsar_version());
        $this->assertSame(Library::STATUS_OK, $ffi->pulsar_last_error_code());
    }
}

<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Implementation;
use PulsarTest\Support\PulsarTestCase;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PublisherToSubscribersDto;

/**
 * The class table (php-ext/classes.json) is the one list of the API's classes and of the rules about them; the
 * route under test (extension or FFI package) agrees with it, and the sources, stubs and package map list nothing
 * more or less. The extension's Rust constants are generated from the same table (php-ext/build.rs).
 */
final class ClassTableTest extends PulsarTestCase
{
    private const ROOT = __DIR__ . '/../..';

    /** @return array{namespace:string,classes:list<array{const:string,name:string,kind:string,about:string}>,rules:array<string,mixed>} */
    private static function table(): array
    {
        return json_decode((string) file_get_contents(self::ROOT . '/php-ext/classes.json'), true, 32, JSON_THROW_ON_ERROR);
    }

    /** @return list<string> the table's classes of $kind */
    private static function names(string $kind): array
    {
        $names = [];
        foreach (self::table()['classes'] as $class) {
            if ($class['kind'] === $kind) {
                $names[] = $class['name'];
            }
        }
        return $names;
    }

    /** $name's file below $dir in PSR-4 layout. */
    private static function file(string $dir, string $name): string
    {
        $relative = substr($name, strlen(self::table()['namespace']));
        return (string) realpath(self::ROOT . "/$dir") . '/' . str_replace('\\', '/', $relative) . '.php';
    }

    public function testEveryClassOfTheTableIsImplementedByThisRouteUnderItsExactName(): void
    {
        $ffi = Implementation::name() === 'ffi';
        foreach (self::table()['classes'] as $class) {
            $name = $class['name'];
            $this->assertTrue(class_exists($name) || interface_exists($name), "$name is missing");
            $reflection = new \ReflectionClass($name);
            $this->assertSame($name, $reflection->getName(), 'spelled as in the table');
            if ($class['kind'] === 'php') {
                // The extension compiles the embedded copy of the file (no file name of its own); composer loads it.
                $this->assertFalse($reflection->isInternal(), $name);
                if ($ffi) {
                    $this->assertSame(self::file('php-ext/php', $name), $reflection->getFileName());
                }
            } elseif ($ffi) {
                $this->assertSame(self::file('php-ext/ffi', $name), $reflection->getFileName(), $name);
            } else {
                $this->assertTrue($reflection->isInternal(), "$name is Rust in the extension");
            }
        }
    }

    public function testTheSourcesStubsAndPackageMapListExactlyTheTablesClasses(): void
    {
        $sources = [];
        $root = (string) realpath(self::ROOT . '/php-ext/php');
        $files = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($root, \FilesystemIterator::SKIP_DOTS));
        foreach ($files as $file) {
            if ($file->getExtension() === 'php') {
                $sources[] = $file->getPathname();
            }
        }
        $expected = array_map(static fn(string $name): string => self::file('php-ext/php', $name), self::names('php'));
        sort($sources);
        sort($expected);
        $this->assertSame($expected, $sources, 'php-ext/php/ holds exactly the table\'s PHP-source classes');

        $native = array_map(static fn(string $name): string => self::file('php-ext/ffi', $name), self::names('native'));
        foreach ($native as $file) {
            $this->assertFileExists($file, 'the FFI package implements every native class');
        }
        $ffiTop = glob((string) realpath(self::ROOT . '/php-ext/ffi') . '/*.php') ?: [];
        sort($ffiTop);
        sort($native);
        $this->assertSame($native, $ffiTop, 'php-ext/ffi/ holds exactly the native classes (helpers live in Ffi/)');

        preg_match_all('/^\s*(?:final\s+)?class\s+(\w+)/m', (string) file_get_contents(self::ROOT . '/php-ext/stubs/pulsar.stubs.php'), $m);
        $stubbed = array_map(static fn(string $short): string => self::table()['namespace'] . $short, $m[1]);
        $this->assertEqualsCanonicalizing(self::names('native'), $stubbed, 'the stubs declare the native classes');

        $composer = json_decode((string) file_get_contents(self::ROOT . '/composer.json'), true, 32, JSON_THROW_ON_ERROR);
        $this->assertSame(['php-ext/php/', 'php-ext/ffi/'], $composer['autoload']['psr-4'][self::table()['namespace']]);
    }

    public function testTheRulesAreTheTables(): void
    {
        $table = self::table();
        $named = array_column($table['classes'], 'name', 'const');
        $this->assertSame(PublisherToSubscribersDto::class, $named[$table['rules']['pulseClass']]);
        $this->assertSame(PublisherPulsarException::class, $named[$table['rules']['exceptionClass']]);
        $pattern = '/' . $table['rules']['classNamePattern'] . '/';
        foreach ($table['rules']['classNameExamples']['valid'] as $name) {
            $this->assertSame(1, preg_match($pattern, $name), $name);
        }
        foreach ($table['rules']['classNameExamples']['invalid'] as $name) {
            $this->assertSame(0, preg_match($pattern, $name), json_encode($name));
        }
        if (Implementation::name() === 'ffi') {
            // The FFI package reads the table itself (the extension's Rust unit tests check its copy).
            $this->assertSame($table['rules'], \React\PublisherPulsar\Ffi\Classes::table()['rules']);
            $this->assertSame(PublisherToSubscribersDto::class, \React\PublisherPulsar\Ffi\Classes::pulseClass());
            $this->assertSame(PublisherPulsarException::class, \React\PublisherPulsar\Ffi\Classes::exceptionClass());
            foreach ($table['rules']['classNameExamples']['valid'] as $name) {
                $this->assertTrue(\React\PublisherPulsar\Ffi\PulseObject::isValidClassName($name), $name);
            }
            foreach ($table['rules']['classNameExamples']['invalid'] as $name) {
                $this->assertFalse(\React\PublisherPulsar\Ffi\PulseObject::isValidClassName($name), json_encode($name));
            }
        }
    }
}

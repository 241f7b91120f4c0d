package tb

// TB is what the test helpers use of a test: *testing.T, *testing.B and
// testing.TB satisfy it. Helpers take it instead of testing.TB so that no
// file outside _test.go files imports the testing package.
type TB interface {
	Helper()
	Name() string
	Log(args ...any)
	Logf(format string, args ...any)
	Error(args ...any)
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// M is what RunSuite uses of a *testing.M.
type M interface {
	Run() int
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"
)

// prompter asks the user questions: it reads answers from the command's
// input and writes questions to its error stream, so that the output
// stays clean for scripts.
type prompter struct {
	in  *bufio.Reader
	out io.Writer
	// terminal is the input's file descriptor when it is a terminal, for
	// reading passwords without echo; -1 otherwise.
	terminal int
}

func newPrompter(in io.Reader, out io.Writer) *prompter {
	p := &prompter{in: bufio.NewReader(in), out: out, terminal: -1}
	if f, ok := in.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = int(f.Fd())
	}
	return p
}

// errNoAnswer: the input ended before the user answered.
var errNoAnswer = errors.New("no answer: the input ended")

// line asks for one line of text.
func (p *prompter) line(question string) (string, error) {
	_, _ = fmt.Fprint(p.out, question)
	answer, err := p.in.ReadString('\n')
	switch {
	case err == nil, errors.Is(err, io.EOF) && answer != "":
		return strings.TrimRight(answer, "\r\n"), nil
	case errors.Is(err, io.EOF):
		return "", errNoAnswer
	default:
		return "", fmt.Errorf("failed to read the answer: %w", err)
	}
}

// secret asks for a password: without echo on a terminal, as one line
// when the input is a pipe.
func (p *prompter) secret(question string) (string, error) {
	if p.terminal < 0 {
		return p.line(question)
	}
	_, _ = fmt.Fprint(p.out, question)
	password, err := readPasswordRestoringTerminal(p.terminal, p.out)
	// The user's Enter was not echoed either.
	_, _ = fmt.Fprintln(p.out)
	if err != nil {
		return "", fmt.Errorf("failed to read the password: %w", err)
	}
	return string(password), nil
}

// confirm asks a yes/no question until it gets an answer; the end of the
// input means no.
func (p *prompter) confirm(question string) (bool, error) {
	for {
		answer, err := p.line(question)
		if errors.Is(err, errNoAnswer) {
			// No answer is no consent.
			_, _ = fmt.Fprintln(p.out)
			return false, nil
		}
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(answer)) {
		case "yes", "y":
			return true, nil
		case "no", "n":
			return false, nil
		}
		question = "Please type 'yes' or 'no': "
	}
}

// readPasswordRestoringTerminal reads a password without echo and puts
// the terminal back if the user interrupts, which would otherwise leave
// the shell without echo.
func readPasswordRestoringTerminal(fd int, out io.Writer) ([]byte, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupts)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-interrupts:
			_ = term.Restore(fd, state)
			_, _ = fmt.Fprintln(out)
			os.Exit(130)
		case <-done:
		}
	}()
	return term.ReadPassword(fd)
}

package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/berth-dev/berth/internal/store"
)

var errBoom = errors.New("storetest: boom")

// Ensure that a put key reads back with its revisions.
func testPutGet(t *testing.T, b Backend) {
	s, _ := open(t, b)
	r := put(t, s, "a", "1")
	kv := mustGet(t, s, "a", "1")
	if kv.CreateRev != r || kv.ModRev != r {
		t.Fatalf("revs = %d/%d, want %d/%d", kv.CreateRev, kv.ModRev, r, r)
	}
	if got := rev(t, s); got != r {
		t.Fatalf("Rev = %d, want %d", got, r)
	}
	// Put copies the value: changing the caller's slice changes nothing.
	buf := []byte("2")
	update(t, s, func(tx store.Tx) error { return tx.Put("b", buf) })
	buf[0] = 'X'
	mustGet(t, s, "b", "2")
	// Get hands out a copy: changing it changes nothing.
	kv = mustGet(t, s, "b", "2")
	kv.Value[0] = 'Y'
	mustGet(t, s, "b", "2")
}

// Ensure that missing keys give ErrNotFound in View and in Update.
func testGetMissing(t *testing.T, b Backend) {
	s, _ := open(t, b)
	put(t, s, "present", "x")
	mustMiss(t, s, "absent")
	mustMiss(t, s, "presen")
	mustMiss(t, s, "present/")
	var err error
	update(t, s, func(tx store.Tx) error {
		_, err = tx.Get("absent")
		return nil
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Tx.Get(absent) error = %v, want ErrNotFound", err)
	}
}

// Ensure that Delete removes a key, and deleting a missing key writes
// nothing.
func testDelete(t *testing.T, b Backend) {
	s, _ := open(t, b)
	r1 := put(t, s, "a", "1")
	put(t, s, "b", "2")
	r2 := del(t, s, "a")
	if r2 <= r1 {
		t.Fatalf("delete rev %d <= put rev %d", r2, r1)
	}
	mustMiss(t, s, "a")
	mustGet(t, s, "b", "2")
	if got := rev(t, s); got != r2 {
		t.Fatalf("Rev = %d, want %d", got, r2)
	}
	// Deleting a missing key is not an error and advances nothing.
	if r3 := del(t, s, "a"); r3 != r2 {
		t.Fatalf("delete of missing key returned rev %d, want %d", r3, r2)
	}
	if r3 := del(t, s, "never"); r3 != r2 {
		t.Fatalf("delete of missing key returned rev %d, want %d", r3, r2)
	}
	if got := rev(t, s); got != r2 {
		t.Fatalf("Rev after no-op deletes = %d, want %d", got, r2)
	}
	// Put then Delete of a new key in one Update writes nothing either.
	r4 := update(t, s, func(tx store.Tx) error {
		if err := tx.Put("c", []byte("3")); err != nil {
			return err
		}
		return tx.Delete("c")
	})
	if r4 != r2 {
		t.Fatalf("put+delete of a new key returned rev %d, want %d", r4, r2)
	}
	mustMiss(t, s, "c")
}

// Ensure that the empty key cannot be written.
func testEmptyKey(t *testing.T, b Backend) {
	s, _ := open(t, b)
	before := rev(t, s)
	_, err := s.Update(t.Context(), func(tx store.Tx) error { return tx.Put("", []byte("x")) })
	if err == nil {
		t.Fatal("Put of the empty key succeeded")
	}
	if got := rev(t, s); got != before {
		t.Fatalf("Rev = %d, want %d", got, before)
	}
}

// listFixture is a set of keys whose byte order differs from insertion
// order and from naive string order assumptions.
var listFixture = []string{"a", "a/", "a/1", "a/10", "a/2", "a/3", "a/3/x", "ab", "b/1", "b/2", "c"}

func putShuffled(t *testing.T, s store.Store, ks []string, seed uint64) {
	t.Helper()
	ks = slices.Clone(ks)
	rand.New(rand.NewPCG(seed, seed)).Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	for _, k := range ks {
		put(t, s, k, "v:"+k)
	}
}

// Ensure that List returns the keys under a prefix, after `after`, in
// ascending byte order, and honours ErrStop and fn errors.
func testList(t *testing.T, b Backend) {
	s, _ := open(t, b)
	putShuffled(t, s, listFixture, 1)
	for _, tc := range []struct {
		prefix, after string
		want          []string
	}{
		{"", "", listFixture},
		{"a/", "", []string{"a/", "a/1", "a/10", "a/2", "a/3", "a/3/x"}},
		{"a", "", []string{"a", "a/", "a/1", "a/10", "a/2", "a/3", "a/3/x", "ab"}},
		{"a/", "a/10", []string{"a/2", "a/3", "a/3/x"}},
		{"a/", "a/", []string{"a/1", "a/10", "a/2", "a/3", "a/3/x"}},
		{"a/", "a/11", []string{"a/2", "a/3", "a/3/x"}}, // after need not exist
		{"a/", "0", []string{"a/", "a/1", "a/10", "a/2", "a/3", "a/3/x"}},
		{"a/", "b", nil}, // after beyond the prefix
		{"a/3/x", "", []string{"a/3/x"}},
		{"b/", "b/2", nil},
		{"", "b/1", []string{"b/2", "c"}},
		{"zz", "", nil},
	} {
		got := keys(list(t, s, tc.prefix, tc.after))
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q, %q) = %q, want %q", tc.prefix, tc.after, got, tc.want)
		}
	}
	for _, kv := range list(t, s, "", "") {
		if string(kv.Value) != "v:"+kv.Key || kv.CreateRev == 0 || kv.ModRev != kv.CreateRev {
			t.Errorf("List returned %q=%q create=%d mod=%d", kv.Key, kv.Value, kv.CreateRev, kv.ModRev)
		}
	}

	// ErrStop ends the iteration without an error.
	var seen []string
	err := s.View(t.Context(), func(r store.Reader) error {
		return r.List("a/", "", func(kv store.KV) error {
			seen = append(seen, kv.Key)
			if len(seen) == 2 {
				return store.ErrStop
			}
			return nil
		})
	})
	if err != nil || !slices.Equal(seen, []string{"a/", "a/1"}) {
		t.Fatalf("List with ErrStop = %q, %v; want [a/ a/1], nil", seen, err)
	}
	// A wrapped ErrStop too.
	err = s.View(t.Context(), func(r store.Reader) error {
		return r.List("", "", func(store.KV) error { return fmt.Errorf("done: %w", store.ErrStop) })
	})
	if err != nil {
		t.Fatalf("List with wrapped ErrStop = %v", err)
	}
	// Any other error ends the iteration and is returned.
	n := 0
	err = s.View(t.Context(), func(r store.Reader) error {
		return r.List("", "", func(store.KV) error { n++; return errBoom })
	})
	if !errors.Is(err, errBoom) || n != 1 {
		t.Fatalf("List with fn error = %v after %d calls; want errBoom after 1", err, n)
	}
}

// Ensure that paging with `after` visits every key exactly once, including
// from inside Update.
func testListPaging(t *testing.T, b Backend) {
	s, _ := open(t, b)
	var want []string
	update(t, s, func(tx store.Tx) error {
		for i := range 57 {
			k := fmt.Sprintf("p/%03d", i)
			want = append(want, k)
			if err := tx.Put(k, []byte(k)); err != nil {
				return err
			}
		}
		return tx.Put("q", nil)
	})
	for _, inUpdate := range []bool{false, true} {
		var got []string
		after := ""
		for {
			var page []string
			read := func(r store.Reader) error {
				return r.List("p/", after, func(kv store.KV) error {
					page = append(page, kv.Key)
					if len(page) == 10 {
						return store.ErrStop
					}
					return nil
				})
			}
			var err error
			if inUpdate {
				_, err = s.Update(t.Context(), func(tx store.Tx) error { page = nil; return read(tx) })
			} else {
				err = s.View(t.Context(), read)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paged List (in Update: %v) = %q, want %q", inUpdate, got, want)
		}
	}
}

// Ensure that List inside Update merges the Update's own puts and deletes.
func testListSeesOwnWrites(t *testing.T, b Backend) {
	s, _ := open(t, b)
	putShuffled(t, s, []string{"a/1", "a/2", "a/3", "a/5", "b"}, 2)
	update(t, s, func(tx store.Tx) error {
		for _, op := range []struct {
			key, value string
			del        bool
		}{
			{key: "a/0", value: "new"},
			{key: "a/2", value: "changed"},
			{key: "a/3", del: true},
			{key: "a/4", value: "new"},
			{key: "a/9", value: "tmp"},
			{key: "a/9", del: true},
			{key: "a/6", value: "new"},
		} {
			var err error
			if op.del {
				err = tx.Delete(op.key)
			} else {
				err = tx.Put(op.key, []byte(op.value))
			}
			if err != nil {
				return err
			}
		}
		for _, tc := range []struct {
			after string
			want  []string
		}{
			{"", []string{"a/0=new", "a/1=v:a/1", "a/2=changed", "a/4=new", "a/5=v:a/5", "a/6=new"}},
			{"a/1", []string{"a/2=changed", "a/4=new", "a/5=v:a/5", "a/6=new"}},
			{"a/2", []string{"a/4=new", "a/5=v:a/5", "a/6=new"}},
			{"a/3", []string{"a/4=new", "a/5=v:a/5", "a/6=new"}},
			{"a/5", []string{"a/6=new"}},
		} {
			var got []string
			err := tx.List("a/", tc.after, func(kv store.KV) error {
				got = append(got, kv.Key+"="+string(kv.Value))
				return nil
			})
			if err != nil {
				return err
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Tx.List(a/, %q) = %q, want %q", tc.after, got, tc.want)
			}
		}
		return nil
	})
	got := keys(list(t, s, "a/", ""))
	if want := []string{"a/0", "a/1", "a/2", "a/4", "a/5", "a/6"}; !slices.Equal(got, want) {
		t.Fatalf("List after commit = %q, want %q", got, want)
	}
}

// Ensure that reads inside Update see the Update's own writes.
func testReadYourWrites(t *testing.T, b Backend) {
	s, _ := open(t, b)
	put(t, s, "k", "old")
	r := update(t, s, func(tx store.Tx) error {
		steps := []struct {
			write func() error
			want  string // "" means not found
		}{
			{func() error { return nil }, "old"},
			{func() error { return tx.Put("k", []byte("v1")) }, "v1"},
			{func() error { return tx.Put("k", []byte("v2")) }, "v2"},
			{func() error { return tx.Delete("k") }, ""},
			{func() error { return tx.Put("k", []byte("v3")) }, "v3"},
		}
		for i, st := range steps {
			if err := st.write(); err != nil {
				return err
			}
			kv, err := tx.Get("k")
			switch {
			case st.want == "" && !errors.Is(err, store.ErrNotFound):
				t.Errorf("step %d: Get = %q, %v; want ErrNotFound", i, kv.Value, err)
			case st.want != "" && (err != nil || string(kv.Value) != st.want):
				t.Errorf("step %d: Get = %q, %v; want %q", i, kv.Value, err, st.want)
			}
		}
		return nil
	})
	kv := mustGet(t, s, "k", "v3")
	if kv.ModRev != r {
		t.Fatalf("ModRev = %d, want %d", kv.ModRev, r)
	}
}

// Ensure that an error from fn aborts every write of that fn and is
// returned as is.
func testFnErrorAborts(t *testing.T, b Backend) {
	s, _ := open(t, b)
	put(t, s, "keep", "1")
	before := rev(t, s)
	_, err := s.Update(t.Context(), func(tx store.Tx) error {
		for _, k := range []string{"x", "y", "keep"} {
			if err := tx.Put(k, []byte("bad")); err != nil {
				return err
			}
		}
		if err := tx.Delete("keep"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update error = %v, want errBoom", err)
	}
	mustMiss(t, s, "x")
	mustMiss(t, s, "y")
	mustGet(t, s, "keep", "1")
	if got := rev(t, s); got != before {
		t.Fatalf("Rev = %d, want %d", got, before)
	}
}

// Ensure that revisions increase strictly, one per writing Update, shared
// by all its writes, and that write-less Updates do not advance them.
func testRevisions(t *testing.T, b Backend) {
	s, _ := open(t, b)
	r0 := rev(t, s)
	r1 := put(t, s, "a", "1")
	r2 := put(t, s, "b", "1")
	if !(r0 < r1 && r1 < r2) {
		t.Fatalf("revs %d, %d, %d not increasing", r0, r1, r2)
	}
	r3 := update(t, s, func(tx store.Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := tx.Put(k, []byte("2")); err != nil {
				return err
			}
		}
		return nil
	})
	if r3 <= r2 {
		t.Fatalf("rev %d <= %d", r3, r2)
	}
	for _, k := range []string{"a", "b", "c"} {
		if kv := mustGet(t, s, k, "2"); kv.ModRev != r3 {
			t.Fatalf("%s ModRev = %d, want %d", k, kv.ModRev, r3)
		}
	}
	if kv := mustGet(t, s, "a", "2"); kv.CreateRev != r1 {
		t.Fatalf("a CreateRev = %d, want %d (unchanged by update)", kv.CreateRev, r1)
	}
	if kv := mustGet(t, s, "c", "2"); kv.CreateRev != r3 {
		t.Fatalf("c CreateRev = %d, want %d", kv.CreateRev, r3)
	}
	if got := rev(t, s); got != r3 {
		t.Fatalf("Rev = %d, want %d", got, r3)
	}
	// Write-less Updates return the current revision and advance nothing.
	for _, fn := range []func(store.Tx) error{
		func(store.Tx) error { return nil },
		func(tx store.Tx) error { _, err := tx.Get("a"); return err },
		func(tx store.Tx) error { return tx.List("", "", func(store.KV) error { return nil }) },
	} {
		if r := update(t, s, fn); r != r3 {
			t.Fatalf("write-less Update returned %d, want %d", r, r3)
		}
	}
	if got := rev(t, s); got != r3 {
		t.Fatalf("Rev after write-less Updates = %d, want %d", got, r3)
	}
	// Rewriting the same value is still a write.
	if r4 := put(t, s, "a", "2"); r4 <= r3 {
		t.Fatalf("same-value put rev %d <= %d", r4, r3)
	}
}

// Ensure that CreateRev restarts when a deleted key is created again.
func testCreateRevAfterRecreate(t *testing.T, b Backend) {
	s, _ := open(t, b)
	r1 := put(t, s, "k", "1")
	r2 := put(t, s, "k", "2")
	if kv := mustGet(t, s, "k", "2"); kv.CreateRev != r1 || kv.ModRev != r2 {
		t.Fatalf("revs = %d/%d, want %d/%d", kv.CreateRev, kv.ModRev, r1, r2)
	}
	del(t, s, "k")
	r4 := put(t, s, "k", "3")
	if kv := mustGet(t, s, "k", "3"); kv.CreateRev != r4 || kv.ModRev != r4 {
		t.Fatalf("revs after recreate = %d/%d, want %d/%d", kv.CreateRev, kv.ModRev, r4, r4)
	}
	// Delete and recreate inside one Update is a new key too.
	r5 := update(t, s, func(tx store.Tx) error {
		if err := tx.Delete("k"); err != nil {
			return err
		}
		return tx.Put("k", []byte("4"))
	})
	kv := mustGet(t, s, "k", "4")
	if kv.ModRev != r5 || (kv.CreateRev != r4 && kv.CreateRev != r5) {
		t.Fatalf("revs after delete+put in one Update = %d/%d, want %d or %d/%d", kv.CreateRev, kv.ModRev, r4, r5, r5)
	}
}

// Ensure that one Update may write several hundred keys and a large value.
func testBigUpdate(t *testing.T, b Backend) {
	s, _ := open(t, b)
	big := make([]byte, 256<<10)
	for i := range big {
		big[i] = byte(i)
	}
	r := update(t, s, func(tx store.Tx) error {
		for i := range 300 {
			if err := tx.Put(fmt.Sprintf("big/%03d", i), []byte{byte(i)}); err != nil {
				return err
			}
		}
		return tx.Put("blob", big)
	})
	kvs := list(t, s, "big/", "")
	if len(kvs) != 300 {
		t.Fatalf("List returned %d keys, want 300", len(kvs))
	}
	for i, kv := range kvs {
		if kv.ModRev != r || len(kv.Value) != 1 || kv.Value[0] != byte(i) {
			t.Fatalf("key %q = %v rev %d, want [%d] rev %d", kv.Key, kv.Value, kv.ModRev, i, r)
		}
	}
	mustGet(t, s, "blob", string(big))
}

// Ensure that a canceled context stops every call before it does anything.
func testContextCanceled(t *testing.T, b Backend) {
	s, _ := open(t, b)
	ctx, cancel := contextCanceled(t)
	defer cancel()
	ran := false
	if _, err := s.Update(ctx, func(tx store.Tx) error { ran = true; return tx.Put("k", nil) }); err == nil {
		t.Fatal("Update with a canceled context succeeded")
	}
	if ran {
		t.Fatal("Update ran fn with a canceled context")
	}
	mustMiss(t, s, "k")
	if err := s.View(ctx, func(store.Reader) error { return nil }); err == nil {
		t.Fatal("View with a canceled context succeeded")
	}
	if _, err := s.Rev(ctx); err == nil {
		t.Fatal("Rev with a canceled context succeeded")
	}
	if _, err := s.Watch(ctx, "", 0); err == nil {
		t.Fatal("Watch with a canceled context succeeded")
	}
}

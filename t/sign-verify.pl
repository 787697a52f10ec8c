#!/usr/bin/perl
# NAME
#	sign-verify.pl - verify every DKIM-Signature of a message with Mail::DKIM
# SYNOPSIS
#	perl t/sign-verify.pl ZONEFILE MESSAGE...
# DESCRIPTION
#	Mail::DKIM's DNS query function is replaced by one answering from
#	ZONEFILE (zone lines as contrib/keygen prints them), so nothing is
#	sent to the network.  Prints one line per signature, "MESSAGE pass
#	d=D s=S a=A" or "MESSAGE fail d=D s=S a=A (detail)", "MESSAGE nosig"
#	for a message without any.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS;

my ($zonefile, @msgfiles) = @ARGV;
my %zone;
open(my $zf, '<', $zonefile) or die "$zonefile: $!\n";
while (my $line = <$zf>) {
    next unless $line =~ /^(\S+)\s+(?:\d+\s+)?IN\s+TXT\s+(.*)$/;
    my ($name, $rest) = (lc $1, $2);
    $name =~ s/\.$//;
    $zone{$name} = join('', $rest =~ /"([^"]*)"/g);
}
close($zf);

{
    no warnings 'redefine';
    *Mail::DKIM::DNS::query = sub {
        my ($domain, $type) = @_;
        $domain = lc $domain;
        $domain =~ s/\.$//;
        return () unless $type eq 'TXT' && exists $zone{$domain};
        my $txt = $zone{$domain};
        my @parts = unpack('(A255)*', $txt);
        return (Net::DNS::RR->new(
            name => $domain, type => 'TXT', ttl => 300, txtdata => [@parts]));
    };
}

foreach my $msgfile (@msgfiles) {
    open(my $mf, '<', $msgfile) or die "$msgfile: $!\n";
    binmode($mf);
    my $dkim = Mail::DKIM::Verifier->new();
    while (read($mf, my $buf, 8192)) {
        $dkim->PRINT($buf);
    }
    close($mf);
    $dkim->CLOSE();
    my @sigs = $dkim->signatures;
    print "$msgfile nosig\n" unless @sigs;
    foreach my $sig (@sigs) {
        my $r = $sig->result // '';
        printf("%s %s d=%s s=%s a=%s%s\n", $msgfile, $r eq 'pass' ? 'pass' : 'fail',
            $sig->domain // '?', $sig->selector // '?', $sig->algorithm // '?',
            $r eq 'pass' ? '' : ' (' . $r . ' ' . ($sig->result_detail // '') . ')');
    }
}

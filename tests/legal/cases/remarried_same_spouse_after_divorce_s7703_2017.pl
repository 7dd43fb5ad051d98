% Text
% Tia and Uri married in 2005 and divorced by a decree of February 2nd, 2014. They married each other
% again on August 8th, 2016.
% By hand: at the close of 2017 they are married under the second marriage, which the 2014 decree
% does not touch (§7703(a)).

% Question
% Section 7703(a)(2) applies to Tia for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(tia_uri_first).
agent_(tia_uri_first,tia).
agent_(tia_uri_first,uri).
start_(tia_uri_first,"2005-05-05").
legal_separation_(tia_uri_divorce).
agent_(tia_uri_divorce,"decree of divorce").
patient_(tia_uri_divorce,tia_uri_first).
start_(tia_uri_divorce,"2014-02-02").
marriage_(tia_uri_second).
agent_(tia_uri_second,uri).
patient_(tia_uri_second,tia).
start_(tia_uri_second,"2016-08-08").

% Test
:- \+ s7703_a_2(tia,_,_,_,2017).
:- halt.

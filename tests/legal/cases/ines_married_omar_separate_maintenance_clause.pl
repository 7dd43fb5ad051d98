% Text
% Ines married Omar on May 16th, 2009. A court entered a separate maintenance decree for the
% couple on March 21st, 2016, and they have lived apart since.
% (The marriage is stated the way "Ines married Omar" reads: Ines its agent, Omar its
% patient.)
% By hand: §2(b)(2)(A): an individual legally separated from his spouse under a decree of
% separate maintenance is not considered married; the decree of 2016 still stands in 2019.
% Before, the clause table's adapter read only two agents of a marriage as its spouses, and
% the answer was Contradiction.

% Question
% For 2019, Section 2(b)(2)(A) applies to the marriage of Ines and Omar. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(ines_omar_wedding).
agent_(ines_omar_wedding,ines).
patient_(ines_omar_wedding,omar).
start_(ines_omar_wedding,"2009-05-16").
legal_separation_(ines_omar_decree).
agent_(ines_omar_decree,"separate maintenance decree").
patient_(ines_omar_decree,ines_omar_wedding).
start_(ines_omar_decree,"2016-03-21").

% Test
:- s2_b_2_A(ines_omar_wedding,2019).
:- halt.

% Text
% Nia married Otto on May 5th, 2005; since March 1st, 2015 they have lived apart under a decree
% of separate maintenance. Their daughter Pat, born July 7th, 2007, lives with Nia in Nia's flat,
% whose costs Nia pays alone ($10000 in 2017). Otto was paid $45000 and Nia $60000 in 2017.
% Nobody itemizes.
% By hand: legally separated under a decree of separate maintenance, Nia is not married
% (§7703(a)(2), §2(b)(2)(A)); Pat is her qualifying child: head of household. $60,000 - $4,400
% - $4,000 = $51,600: §1(b)(ii), $4,440 + 28% of $22,000 = $10,600.

% Question
% How much tax does nia have to pay in 2017? $10600

% Facts
:- [statutes/prolog/init].
marriage_(nia_and_otto).
agent_(nia_and_otto,nia).
agent_(nia_and_otto,otto).
start_(nia_and_otto,"2005-05-05").
legal_separation_(nia_and_otto_separate).
agent_(nia_and_otto_separate,"decree of separate maintenance").
patient_(nia_and_otto_separate,nia_and_otto).
start_(nia_and_otto_separate,"2015-03-01").
daughter_(pat_is_nias_daughter).
agent_(pat_is_nias_daughter,pat).
patient_(pat_is_nias_daughter,nia).
birth_(pat_born).
agent_(pat_born,pat).
start_(pat_born,"2007-07-07").
residence_(nia_home).
agent_(nia_home,nia).
patient_(nia_home,nias_flat).
start_(nia_home,"2015-03-01").
residence_(pat_home).
agent_(pat_home,pat).
patient_(pat_home,nias_flat).
start_(pat_home,"2015-03-01").
payment_(nia_keeps_flat).
agent_(nia_keeps_flat,nia).
purpose_(nia_keeps_flat,nias_flat).
amount_(nia_keeps_flat,10000).
start_(nia_keeps_flat,"2017-06-30").
payment_(otto_paid).
patient_(otto_paid,otto).
amount_(otto_paid,45000).
start_(otto_paid,"2017-12-31").
payment_(nia_paid).
patient_(nia_paid,nia).
amount_(nia_paid,60000).
start_(nia_paid,"2017-12-31").

% Test
:- tax(nia,2017,10600).
:- halt.

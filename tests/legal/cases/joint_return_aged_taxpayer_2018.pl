% Text
% Otto (born 1952-10-02) and Pia (born 1960-04-18) have been married since 1985 and file a joint
% return for 2018. Otto's pension paid him $80,000 in 2018 and Pia earned $20,000. They take the
% standard deduction.
% By hand: joint return, 2018: basic standard deduction 200% of $12,000 = $24,000
% (§63(c)(2)(A)(i), (c)(7)(ii)); Otto attained 65 before the close of 2018: additional $600
% (§63(f)(1)(A); married, so not $750); Pia is 58. Exemption amount zero (§151(d)(5)).
% Taxable income $100,000 - $24,600 = $75,400; §1(a)(ii): $5,535 + 28% of $38,500 = $16,315.

% Question
% How much tax does Otto have to pay in 2018? $16315

% Facts
:- [statutes/prolog/init].
birth_(otto_born).
agent_(otto_born,otto).
start_(otto_born,"1952-10-02").
birth_(pia_born).
agent_(pia_born,pia).
start_(pia_born,"1960-04-18").
marriage_(otto_pia).
agent_(otto_pia,otto).
agent_(otto_pia,pia).
start_(otto_pia,"1985-06-01").
joint_return_(otto_pia_2018).
agent_(otto_pia_2018,otto).
agent_(otto_pia_2018,pia).
start_(otto_pia_2018,"2018-01-01").
end_(otto_pia_2018,"2018-12-31").
income_(otto_pension).
agent_(otto_pension,otto).
amount_(otto_pension,80000).
start_(otto_pension,"2018-12-31").
income_(pia_wages).
agent_(pia_wages,pia).
amount_(pia_wages,20000).
start_(pia_wages,"2018-12-31").

% Test
:- tax(otto,2018,16315).
:- halt.
